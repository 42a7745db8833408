import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import type { ConformanceRegistry } from './registry.js';

/**
 * Snapshot generation for profiles published with only a differential
 * (http://hl7.org/fhir/R4/profiling.html#snapshot). Supported: differentials over a core type or
 * another profile; constraints on elements of the base, on elements inside data types (the type is
 * expanded from its definition), slices (`A.b:name`) with their children, and choice renames
 * (`valueQuantity` for `value[x]`). Not supported: re-slicing and slices of slices.
 */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

const MAX_DEPTH = 10;

export function snapshotElements(sd: StructureDefinition, registry: ConformanceRegistry, depth = 0): ElementDefinition[] {
  if (sd.snapshot?.element?.length) return sd.snapshot.element;
  if (depth > MAX_DEPTH) throw new SnapshotError(`Profile ${sd.url}: baseDefinition chain is too deep or circular`);
  if (!sd.baseDefinition) throw new SnapshotError(`Profile ${sd.url} has no snapshot and no baseDefinition`);
  const base = registry.getStructureDefinition(sd.baseDefinition);
  if (!base) throw new SnapshotError(`Profile ${sd.url} is based on ${sd.baseDefinition}, which is not loaded`);
  const elements = structuredClone(snapshotElements(base, registry, depth + 1));
  const builder = new SnapshotBuilder(elements, registry, sd.url ?? '(no url)', depth);
  for (const diff of sd.differential?.element ?? []) builder.apply(diff);
  return elements;
}

class SnapshotBuilder {
  constructor(
    private readonly elements: ElementDefinition[],
    private readonly registry: ConformanceRegistry,
    private readonly url: string,
    private readonly depth: number,
  ) {}

  apply(diff: ElementDefinition): void {
    const id = diff.id ?? (diff.sliceName ? `${diff.path}:${diff.sliceName}` : (diff.path as string));
    const index = this.ensure(id);
    merge(this.elements[index], diff, this.elements[index].id !== id ? choiceType(this.elements[index], id) : undefined);
  }

  private indexOf(id: string): number {
    return this.elements.findIndex((e) => (e.id ?? e.path) === id);
  }

  /** Index of the element with this id, creating slices and expanding data types as needed. */
  private ensure(id: string): number {
    const found = this.indexOf(id);
    if (found >= 0) return found;
    const dot = id.lastIndexOf('.');
    if (dot < 0) throw new SnapshotError(`Profile ${this.url}: ${id} is not an element of its base`);
    const parentId = id.slice(0, dot);
    const segment = id.slice(dot + 1);
    const colon = segment.indexOf(':');
    if (colon >= 0) return this.addSlice(`${parentId}.${segment.slice(0, colon)}`, segment.slice(colon + 1), id);
    const parentIndex = this.ensure(parentId);
    if (!this.elements.some((e) => (e.id ?? '').startsWith(parentId + '.'))) this.expandType(parentIndex);
    const index = this.indexOf(id);
    if (index >= 0) return index;
    // `valueQuantity` names the Quantity type of `value[x]`.
    const choice = this.elements.findIndex((e) => {
      const eid = e.id ?? '';
      if (!eid.startsWith(parentId + '.') || !eid.endsWith('[x]')) return false;
      const name = eid.slice(parentId.length + 1, -3);
      return !name.includes('.') && segment.startsWith(name) && choiceType(e, `${parentId}.${segment}`) !== undefined;
    });
    if (choice >= 0) return choice;
    throw new SnapshotError(`Profile ${this.url}: differential element ${id} matches no element of its base`);
  }

  private addSlice(slicedId: string, sliceName: string, id: string): number {
    if (sliceName.includes('/')) throw new SnapshotError(`Profile ${this.url}: re-slicing (${id}) is not supported`);
    const slicedIndex = this.ensure(slicedId);
    let end = slicedIndex + 1;
    while (end < this.elements.length) {
      const eid = this.elements[end].id ?? '';
      if (!(eid.startsWith(slicedId + '.') || eid.startsWith(slicedId + ':'))) break;
      end++;
    }
    const template = [this.elements[slicedIndex]];
    for (let i = slicedIndex + 1; i < end && (this.elements[i].id ?? '').startsWith(slicedId + '.'); i++) template.push(this.elements[i]);
    const copies = template.map((e) => {
      const copy = structuredClone(e);
      copy.id = id + (e.id ?? '').slice(slicedId.length);
      return copy;
    });
    copies[0].sliceName = sliceName;
    delete copies[0].slicing;
    this.elements.splice(end, 0, ...copies);
    return end;
  }

  /** Inserts the elements of a data type (or of a content reference) under an element. */
  private expandType(index: number): void {
    const parent = this.elements[index];
    const parentId = parent.id ?? (parent.path as string);
    let source: ElementDefinition[];
    let rootPath: string;
    if (parent.contentReference) {
      rootPath = parent.contentReference.slice(parent.contentReference.indexOf('#') + 1);
      source = this.elements.filter((e) => e.path === rootPath || (e.path ?? '').startsWith(rootPath + '.')).filter((e) => !e.sliceName);
    } else {
      const types = parent.type ?? [];
      if (types.length !== 1) throw new SnapshotError(`Profile ${this.url}: cannot constrain inside ${parentId}, which has ${types.length} types`);
      const typeSd = (types[0].profile?.[0] && this.registry.getStructureDefinition(types[0].profile[0])) || this.registry.getTypeDefinition(types[0].code as string);
      if (!typeSd) throw new SnapshotError(`Profile ${this.url}: type ${types[0].code} of ${parentId} is not loaded`);
      source = snapshotElements(typeSd, this.registry, this.depth + 1);
      rootPath = source[0].path as string;
    }
    const children = source.slice(1).map((e) => {
      const copy = structuredClone(e);
      const eid = e.id ?? (e.path as string);
      copy.id = parentId + eid.slice(rootPath.length);
      copy.path = parent.path + (e.path as string).slice(rootPath.length);
      return copy;
    });
    this.elements.splice(index + 1, 0, ...children);
  }
}

/** For `value[x]` addressed as `valueQuantity`, the type it names. */
function choiceType(choice: ElementDefinition, id: string): string | undefined {
  const name = (choice.path as string).slice((choice.path as string).lastIndexOf('.') + 1, -3);
  const suffix = id.slice(id.lastIndexOf('.') + 1 + name.length);
  return choice.type?.find((t) => {
    const code = t.code as string;
    return code[0].toUpperCase() + code.slice(1) === suffix;
  })?.code;
}

/** Differential values replace the base's; constraints are added (http://hl7.org/fhir/R4/profiling.html#snapshot). */
function merge(target: ElementDefinition, diff: ElementDefinition, renamedType: string | undefined): void {
  const t = target as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(diff)) {
    if (key === 'id' || key === 'path') continue;
    if (key === 'constraint') {
      const existing = new Set((target.constraint ?? []).map((c) => c.key));
      target.constraint = [...(target.constraint ?? []), ...(value as ElementDefinition['constraint'] & object).filter((c) => !existing.has(c.key))];
      continue;
    }
    if (key.startsWith('fixed') || key.startsWith('pattern')) {
      for (const k of Object.keys(t)) if (k.startsWith('fixed') || k.startsWith('pattern')) delete t[k];
    }
    t[key] = structuredClone(value);
  }
  if (renamedType && !diff.type) target.type = target.type?.filter((x) => x.code === renamedType);
}

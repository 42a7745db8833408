import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import type { ConformanceRegistry } from './registry.js';

/**
 * Snapshot generation for profiles published with only a differential
 * (http://hl7.org/fhir/R4/profiling.html#snapshot). Supported: differentials over a core type or
 * another profile (a profile on a profile: its base's snapshot is generated first); constraints on
 * elements of the base, on elements inside data types (the type, or the profile an element's type
 * names, is expanded from its definition), slices (`A.b:name`) with their children, choice renames
 * (`valueQuantity` for `value[x]`), and children of a choice that only one of its complex types
 * has (`event[x].system`: only Coding has `system`). A profile that refers to itself (an element
 * typed with its own profile) is expanded with its type's core definition inside itself, so
 * generation ends. Not supported: re-slicing and slices of slices.
 */
export class SnapshotError extends Error {
  override name = 'SnapshotError';

  constructor(
    message: string,
    /** Index of the differential element that could not be applied, when one is at fault. */
    readonly differentialIndex?: number,
    /** The StructureDefinition element at fault otherwise (e.g. `baseDefinition`). */
    readonly element?: string,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 10;

/**
 * Generated snapshots, per registry and per StructureDefinition object: a profile on a profile, or
 * every extension a profile expands, would otherwise regenerate its base each time. Dropped when
 * the registry changes (its revision), since a base may have been replaced.
 */
const generated = new WeakMap<ConformanceRegistry, { revision: number; bySd: WeakMap<StructureDefinition, ElementDefinition[]> }>();

/** URLs whose snapshot is being generated, innermost last: the recursion guard. */
const inProgress: string[] = [];

/**
 * The snapshot elements of a StructureDefinition: its own snapshot when it has one, else one
 * generated from its differential over its base. The result is shared: callers must not modify it.
 */
export function snapshotElements(sd: StructureDefinition, registry: ConformanceRegistry, depth = 0): ElementDefinition[] {
  if (sd.snapshot?.element?.length) return sd.snapshot.element;
  let cache = generated.get(registry);
  if (cache?.revision !== registry.revision) {
    cache = { revision: registry.revision, bySd: new WeakMap() };
    generated.set(registry, cache);
  }
  const cached = cache.bySd.get(sd);
  if (cached) return cached;
  const url = sd.url ?? '(no url)';
  if (depth > MAX_DEPTH) throw new SnapshotError(`Profile ${url}: baseDefinition chain is deeper than ${MAX_DEPTH} profiles`, undefined, 'baseDefinition');
  if (inProgress.includes(url)) throw new SnapshotError(`Profile ${url}: its baseDefinition chain comes back to itself (${[...inProgress.slice(inProgress.indexOf(url)), url].join(' → ')})`, undefined, 'baseDefinition');
  if (!sd.baseDefinition) throw new SnapshotError(`Profile ${url} has no snapshot and no baseDefinition`, undefined, 'baseDefinition');
  const base = registry.getStructureDefinition(sd.baseDefinition);
  if (!base) throw new SnapshotError(`Profile ${url} is based on ${sd.baseDefinition}, which is not loaded`, undefined, 'baseDefinition');
  inProgress.push(url);
  try {
    const elements = structuredClone(baseSnapshot(sd, base, registry, depth));
    const builder = new SnapshotBuilder(elements, registry, url, depth);
    (sd.differential?.element ?? []).forEach((diff, i) => {
      try {
        builder.apply(diff);
      } catch (err) {
        throw err instanceof SnapshotError ? new SnapshotError(err.message, i) : err;
      }
    });
    cache.bySd.set(sd, elements);
    return elements;
  } finally {
    inProgress.pop();
  }
}

/** The base's snapshot; a base that cannot be used is this profile's baseDefinition's fault. */
function baseSnapshot(sd: StructureDefinition, base: StructureDefinition, registry: ConformanceRegistry, depth: number): ElementDefinition[] {
  try {
    return snapshotElements(base, registry, depth + 1);
  } catch (err) {
    if (!(err instanceof SnapshotError) || err.element === 'baseDefinition') throw err;
    throw new SnapshotError(`Profile ${sd.url}: its base ${sd.baseDefinition} cannot be used: ${err.message}`, undefined, 'baseDefinition');
  }
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
    if (!this.elements.some((e) => (e.id ?? '').startsWith(parentId + '.'))) this.expandType(parentIndex, segment);
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

  /** Inserts the elements of a data type (or of a content reference) under an element, to reach `child`. */
  private expandType(index: number, child: string): void {
    const parent = this.elements[index];
    const parentId = parent.id ?? (parent.path as string);
    let source: ElementDefinition[];
    let rootPath: string;
    if (parent.contentReference) {
      rootPath = parent.contentReference.slice(parent.contentReference.indexOf('#') + 1);
      source = this.elements.filter((e) => e.path === rootPath || (e.path ?? '').startsWith(rootPath + '.')).filter((e) => !e.sliceName);
    } else {
      const type = this.typeToExpand(parent, parentId, child);
      source = this.typeElements(type, parentId);
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

  /**
   * The type whose elements go under `parent`: its only type, or for a choice (`event[x]`) the one
   * complex type that has `child` (profiling.html: constraints on a choice's children apply to the
   * type that has them; primitive types have no children but id and extension).
   */
  private typeToExpand(parent: ElementDefinition, parentId: string, child: string): NonNullable<ElementDefinition['type']>[number] {
    const types = parent.type ?? [];
    if (types.length === 1) return types[0];
    const childName = child.includes(':') ? child.slice(0, child.indexOf(':')) : child;
    const having = types.filter((t) => {
      const def = this.registry.getTypeDefinition(t.code as string);
      if (!def || def.kind === 'primitive-type') return false;
      return (def.snapshot?.element ?? []).some((e) => e.path === `${def.type}.${childName}`);
    });
    if (having.length === 1) return having[0];
    throw new SnapshotError(`Profile ${this.url}: cannot constrain ${parentId}.${child}: ${parentId} has ${types.length} types, and ${having.length === 0 ? 'none' : 'several'} of them ${having.length === 0 ? 'has' : 'have'} an element ${childName}`);
  }

  /** Elements of a type, or of the profile its type names; a profile being generated (itself, recursively) gives its core type. */
  private typeElements(type: NonNullable<ElementDefinition['type']>[number], parentId: string): ElementDefinition[] {
    const profileUrl = type.profile?.[0];
    const profile = profileUrl && !inProgress.includes(profileUrl.split('|')[0]) ? this.registry.getStructureDefinition(profileUrl) : undefined;
    const typeSd = profile ?? this.registry.getTypeDefinition(type.code as string);
    if (!typeSd) throw new SnapshotError(`Profile ${this.url}: type ${type.code} of ${parentId} is not loaded`);
    return snapshotElements(typeSd, this.registry, this.depth + 1);
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

/**
 * A binding in the differential states what it changes: a new value set keeps the base's strength,
 * as the HL7 snapshot generator merges them (the base's binding without its description or its
 * extensions — bindingName, isCommonBinding describe the base's binding, not this one — then the
 * differential's strength, description, value set and extensions over it).
 */
function mergedBinding(base: NonNullable<ElementDefinition['binding']>, diff: NonNullable<ElementDefinition['binding']>): NonNullable<ElementDefinition['binding']> {
  const { description: _dropped, extension: _described, ...kept } = structuredClone(base);
  return { ...kept, ...structuredClone(diff) };
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
    if (key === 'binding' && target.binding) {
      target.binding = mergedBinding(target.binding, value as NonNullable<ElementDefinition['binding']>);
      continue;
    }
    t[key] = structuredClone(value);
  }
  if (renamedType && !diff.type) target.type = target.type?.filter((x) => x.code === renamedType);
}

import { getElementDefinition, getElementDefinitionTypeName, isResourceType, type TypedValue } from '@medplum/core';
import type { ElementDefinition, Resource } from '@medplum/fhirtypes';

/** Evaluates one search parameter expression over a resource, as @medplum/core's FHIRPath would. */
export type PathEvaluator = (resource: Resource) => TypedValue[];

interface Step {
  property: string;
  /** One type: the JSON key is `property`. Several (a choice `x[x]`): `x` + the capitalised type. */
  types: string[];
  choice: boolean;
}

interface Branch {
  steps: Step[];
  /** `.where(resolve() is X)`: only references to an X. */
  resolvesTo?: string;
}

const PATH = /^([A-Za-z]+)((?:\.[a-zA-Z][a-zA-Z0-9]*)+)(?:\.where\(\(?resolve\(\) is ([A-Za-z]+)\)?\))?(?:\.ofType\(([A-Za-z]+)\)|\.as\(([A-Za-z]+)\)| as ([A-Za-z]+))?$/;

/**
 * Most search parameter expressions are plain paths (`Task.owner`, `Task.restriction.period.end`,
 * `Task.for.where(resolve() is Patient)`, `Observation.value as Quantity`). Walking those over the
 * JSON with the element types known in advance gives the values @medplum/core's FHIRPath engine
 * gives, at a small fraction of the cost: indexing a message's resources spent a fifth of the
 * server's time in FHIRPath. Returns undefined for anything else (functions, operators), which
 * stays with the engine; src/fhir/search/extract.test.ts checks both agree on every NHS sample.
 */
export function compilePath(resourceType: string, branches: string[]): PathEvaluator | undefined {
  const compiled: Branch[] = [];
  for (const raw of branches) {
    let b: Branch | undefined;
    try {
      b = compileBranch(resourceType, unwrap(raw.trim()));
    } catch {
      b = undefined; // a path the type schema cannot follow: the engine's business
    }
    if (!b) return undefined;
    compiled.push(b);
  }
  return (resource) => {
    const out: TypedValue[] = [];
    for (const b of compiled) evaluate(b, resource, out);
    return out;
  };
}

function unwrap(s: string): string {
  while (s.startsWith('(') && s.endsWith(')') && balanced(s.slice(1, -1))) s = s.slice(1, -1).trim();
  return s;
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function compileBranch(resourceType: string, text: string): Branch | undefined {
  const m = PATH.exec(text);
  if (!m || m[1] !== resourceType) return undefined;
  const narrowTo = m[4] ?? m[5] ?? m[6];
  const resolvesTo = m[3];
  if (resolvesTo && !isResourceType(resolvesTo)) return undefined;
  const steps: Step[] = [];
  let type = resourceType;
  const properties = m[2].slice(1).split('.');
  for (const [i, property] of properties.entries()) {
    const el = getElementDefinition(type, property);
    if (!el?.type?.length) return undefined;
    const choice = el.path.endsWith('[x]');
    // BackboneElements are typed by their inner type name (TaskRestriction); a contained
    // Resource, a choice in the middle of a path or a narrowing of a single type is left to the engine
    let types = choice ? el.type.map((t) => t.code) : [getElementDefinitionTypeName(el as unknown as ElementDefinition)];
    if (i === properties.length - 1 && narrowTo) {
      if (!choice) return undefined;
      types = types.filter((t) => t === narrowTo);
    }
    if (types.length === 0 || types.some((t) => t === 'Resource' || t === 'Element' || t === 'BackboneElement')) return undefined;
    if (choice && i < properties.length - 1) return undefined;
    steps.push({ property, types, choice });
    type = types[0];
  }
  return { steps, resolvesTo };
}

function evaluate(b: Branch, resource: Resource, out: TypedValue[]): void {
  let current: unknown[] = [resource];
  let last: TypedValue[] = [];
  b.steps.forEach((step, i) => {
    const next: TypedValue[] = [];
    for (const node of current) {
      if (!node || typeof node !== 'object') continue;
      const obj = node as Record<string, unknown>;
      if (step.choice) {
        for (const t of step.types) push(next, obj[step.property + t[0].toUpperCase() + t.slice(1)], t);
      } else {
        push(next, obj[step.property], step.types[0]);
      }
    }
    if (i === b.steps.length - 1) last = next;
    else current = next.map((v) => v.value);
  });
  for (const v of last) if (!b.resolvesTo || resolvedType(v.value) === b.resolvesTo) out.push(v);
}

function push(out: TypedValue[], value: unknown, type: string): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) if (v !== undefined && v !== null) out.push({ type, value: v });
  } else {
    out.push({ type, value });
  }
}

/** The type FHIRPath's resolve() gives a Reference in @medplum/core: from its first path segment. */
function resolvedType(ref: unknown): string | undefined {
  if (!ref || typeof ref !== 'object') return undefined;
  const r = ref as { reference?: string; resource?: Resource; type?: string; identifier?: { system?: string } };
  if (r.resource) return r.resource.resourceType;
  const s = r.reference ?? (r.type && r.identifier ? `${r.type}?` : undefined);
  if (!s) return undefined;
  if (s.includes('?')) return s.split('?')[0];
  if (s.includes('/')) return s.split('/')[0];
  return undefined;
}

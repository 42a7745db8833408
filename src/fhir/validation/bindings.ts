import type { ElementDefinitionBinding } from '@medplum/fhirtypes';
import type { ValueCheck } from './context.js';
import type { Expansion, Terminology } from './terminology.js';

/**
 * Terminology bindings (http://hl7.org/fhir/R4/terminologies.html#strength) on code, Coding,
 * CodeableConcept and Quantity elements (a Quantity's system and code, like a Coding's):
 * - required: the code SHALL be in the value set; for a CodeableConcept at least one coding SHALL be.
 *   Text alone does not satisfy a required binding. A value set we cannot fully expand (SNOMED CT,
 *   external systems, unsupported filters) only fails codes it certainly excludes.
 * - extensible and preferred: other codes are allowed, so only a code from a system nobody knows (not in
 *   the value set, the registry, or the well-known external terminologies) gets a warning.
 * - example: not checked.
 */
export function compileBinding(
  binding: ElementDefinitionBinding | undefined,
  typeCode: string,
  terminology: Terminology,
): ValueCheck | undefined {
  const url = binding?.valueSet;
  const strength = binding?.strength;
  if (!url || !strength || strength === 'example') return undefined;
  if (quantityTypes.has(typeCode)) typeCode = 'Coding'; // a Quantity's unit is bound by its system and code (datatypes.html#Quantity)
  if (typeCode !== 'code' && typeCode !== 'Coding' && typeCode !== 'CodeableConcept') return undefined;

  let expansion: Expansion | null | undefined;
  const expand = (): Expansion | null => {
    if (expansion === undefined) expansion = terminology.expand(url) ?? null;
    return expansion;
  };

  if (strength === 'required') {
    return (value, path, ctx) => {
      const vs = expand();
      if (!vs) return;
      const problem = requiredProblem(vs, typeCode, value);
      if (problem) ctx.issues.error('code-invalid', path, problem);
    };
  }
  if (typeCode === 'code') return undefined; // a bare code has no system to be unknown
  return (value, path, ctx) => {
    const vs = expand();
    for (const coding of codingsOf(typeCode, value)) {
      if (typeof coding.code !== 'string') continue;
      const system = typeof coding.system === 'string' ? coding.system : undefined;
      if (vs?.has(system, coding.code) === true) continue;
      if (system && (terminology.isKnownSystem(system) || (vs && [...vs.systems].includes(system)))) continue;
      ctx.issues.warning(
        'code-invalid',
        path,
        `${system ? `Code system ${system} is not known` : `Code '${coding.code}' has no system`}, so '${coding.code}' cannot be checked; ` +
          `value set ${describe(vs, url)} is ${strength === 'extensible' ? 'to be used if it has a suitable code' : 'preferred'} here (${strength} binding)`,
      );
    }
  };
}

/** Quantity and its profiles in R4 (datatypes.html#Quantity). */
const quantityTypes = new Set(['Quantity', 'Age', 'Count', 'Distance', 'Duration', 'MoneyQuantity', 'SimpleQuantity']);

interface CodingLike {
  system?: unknown;
  code?: unknown;
}

function codingsOf(typeCode: string, value: unknown): CodingLike[] {
  if (value === null || typeof value !== 'object') return [];
  if (typeCode === 'Coding') return [value as CodingLike];
  const coding = (value as { coding?: unknown }).coding;
  return Array.isArray(coding) ? coding.filter((c): c is CodingLike => c !== null && typeof c === 'object') : [];
}

function requiredProblem(vs: Expansion, typeCode: string, value: unknown): string | undefined {
  if (typeCode === 'code') {
    if (typeof value !== 'string' || vs.hasCode(value) !== false) return undefined;
    return `'${value}' is not in value set ${describe(vs)}, which is required here${allowed(vs)}`;
  }
  const codings = codingsOf(typeCode, value).filter((c) => typeof c.code === 'string');
  if (codings.length === 0) {
    if (typeCode === 'Coding') return undefined; // a Coding without a code is reported by other rules if at all
    return `No code given: a coding from value set ${describe(vs)} is required here (text alone is not enough)${allowed(vs)}`;
  }
  let unknown = false;
  for (const c of codings) {
    const answer = vs.has(typeof c.system === 'string' ? c.system : undefined, c.code as string);
    if (answer === true) return undefined;
    if (answer === undefined) unknown = true;
  }
  if (unknown) return undefined;
  const given = codings.map((c) => `${typeof c.system === 'string' ? c.system : '(no system)'}|${c.code}`).join(', ');
  return typeCode === 'Coding'
    ? `Code ${given} is not in value set ${describe(vs)}, which is required here${allowed(vs)}`
    : `None of the codings (${given}) is in value set ${describe(vs)}, which is required here${allowed(vs)}`;
}

function describe(vs: Expansion | null | undefined, url?: string): string {
  return vs ? `'${vs.title}' (${vs.url})` : (url ?? 'value set');
}

function allowed(vs: Expansion): string {
  const codes = vs.listCodes(15);
  return codes?.length ? `; allowed codes: ${codes.join(', ')}` : '';
}

import type { ValidationContext } from './context.js';
import type { Terminology } from './terminology.js';

/**
 * FHIRPath `memberOf(valueset)` as a whole constraint on its element (fhirpath.html#functions, FHIR's
 * additional functions: "true if the code is a member of the given value set"), which medplum's
 * engine does not implement. The element's code, Coding or CodeableConcept (any of its codings) is
 * looked up in the local expansion; a value set we cannot expand, or a code it neither has nor
 * excludes, is left unjudged with a warning, never passed silently.
 */
export const MEMBER_OF = /^\s*(?:\$this\s*\.\s*)?memberOf\(\s*'([^']+)'\s*\)\s*$/;

export function memberOfCheck(valueSetUrl: string, key: string, human: string, terminology: Terminology) {
  return (value: unknown, path: string, ctx: ValidationContext): void => {
    const expansion = terminology.expand(valueSetUrl);
    const codings = codingsOf(value);
    const answers = expansion ? codings.map((c) => expansion.has(c.system, c.code)) : [];
    if (answers.includes(true)) return;
    if (expansion && codings.length > 0 && answers.every((a) => a === false)) {
      ctx.issues.error('invariant', path, `Constraint ${key} failed: ${human}`, key);
      return;
    }
    if (codings.length > 0) ctx.issues.warning('not-supported', path, `Constraint ${key} (${human}) was not checked: value set ${valueSetUrl} cannot be expanded here`, key);
  };
}

function codingsOf(value: unknown): Array<{ system: string | undefined; code: string }> {
  if (typeof value === 'string') return [{ system: undefined, code: value }];
  if (value === null || typeof value !== 'object') return [];
  const list = Array.isArray((value as { coding?: unknown }).coding) ? ((value as { coding: unknown[] }).coding as unknown[]) : [value];
  return list
    .map((c) => c as { system?: unknown; code?: unknown })
    .filter((c) => typeof c?.code === 'string')
    .map((c) => ({ system: typeof c.system === 'string' ? c.system : undefined, code: c.code as string }));
}

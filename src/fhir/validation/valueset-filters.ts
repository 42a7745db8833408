import type { CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';
import type { ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * A ValueSet filter on a code system property of type Coding
 * (http://hl7.org/fhir/R4/valueset-definitions.html#ValueSet.compose.include.filter.value,
 * codesystem-definitions.html#CodeSystem.property.type): the value names a Coding as
 * `system(|version)#code`, as the HL7 validator reads it; when that system is held completely, the
 * code must be one of its concepts. Filters on other property types are not checked here.
 */
export function valueSetFilterRule(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const vs = value as ValueSet;
    (vs.compose?.include ?? []).forEach((include, i) => {
      if (typeof include?.system !== 'string') return;
      const properties = registry.getCodeSystem(include.system)?.property ?? [];
      (include.filter ?? []).forEach((filter, f) => {
        const where = `${path}.compose.include[${i}].filter[${f}]`;
        const property = properties.find((p) => p.code === filter?.property);
        if (property?.type !== 'Coding' || typeof filter.value !== 'string') return;
        if (filter.op !== '=' && filter.op !== 'in' && filter.op !== 'not-in') return;
        const values = filter.op === '=' ? [filter.value] : filter.value.split(',').map((v) => v.trim());
        for (const v of values) {
          const coding = /^([^|#\s]+)(?:\|([^#\s]+))?#(.+)$/.exec(v);
          if (!coding) {
            ctx.issues.error('value', where, `The value for a filter based on property '${filter.property}' must be in the format system(|version)#code, not '${v}'`);
            continue;
          }
          const [, system, , code] = coding;
          const cs = registry.getCodeSystem(system);
          if (cs?.content === 'complete' && !hasConcept(cs.concept, code, cs.caseSensitive !== false)) {
            ctx.issues.error('value', where, `The value for a filter based on property '${filter.property}' is '${v}' which is not a valid code (Unknown code '${code}' in the CodeSystem '${system}')`);
          }
        }
      });
    });
  };
}

function hasConcept(concepts: CodeSystemConcept[] | undefined, code: string, caseSensitive: boolean): boolean {
  for (const c of concepts ?? []) {
    if (caseSensitive ? c.code === code : c.code?.toLowerCase() === code.toLowerCase()) return true;
    if (hasConcept(c.concept, code, caseSensitive)) return true;
  }
  return false;
}

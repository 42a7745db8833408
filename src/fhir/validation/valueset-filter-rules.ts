import type { CodeSystem } from '@medplum/fhirtypes';
import { STANDARD_PROPERTY_TYPES } from './codesystem-rules.js';
import type { ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * A ValueSet filter on a boolean property of a code system we hold (ValueSet.compose.include.filter,
 * http://hl7.org/fhir/R4/valueset-definitions.html#ValueSet.compose.include.filter.value) is `true`
 * or `false`. The property's type is the code system's declaration, or the standard property's
 * (http://hl7.org/fhir/concept-properties, e.g. notSelectable). The HL7 validator's message. Coding
 * properties are checked in valueset-filters.ts.
 */
export function valueSetBooleanFilterRule(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const compose = (value as { compose?: { include?: unknown; exclude?: unknown } }).compose;
    if (!compose || typeof compose !== 'object') return;
    for (const part of ['include', 'exclude'] as const) {
      const list = compose[part];
      if (!Array.isArray(list)) continue;
      list.forEach((entry: { system?: unknown; filter?: unknown } | null, i) => {
        if (typeof entry?.system !== 'string' || !Array.isArray(entry.filter)) return;
        const cs = registry.getCodeSystem(entry.system);
        if (!cs) return;
        entry.filter.forEach((filter: { property?: unknown; op?: unknown; value?: unknown } | null, j) => {
          if (filter?.op !== '=' || typeof filter.property !== 'string' || typeof filter.value !== 'string') return;
          const problem = filterValueProblem(propertyType(cs, filter.property), filter.property, filter.value);
          if (problem) ctx.issues.error('code-invalid', `${path}.compose.${part}[${i}].filter[${j}]`, problem);
        });
      });
    }
  };
}

function propertyType(cs: CodeSystem, property: string): string | undefined {
  const declared = cs.property?.find((p) => p.code === property)?.type;
  return declared ?? STANDARD_PROPERTY_TYPES[property];
}

function filterValueProblem(type: string | undefined, property: string, value: string): string | undefined {
  if (type === 'boolean' && value !== 'true' && value !== 'false') {
    return `The value for a filter based on property '${property}' must be either 'true' or 'false', not '${value}'`;
  }
  return undefined;
}

import type { CodeSystem } from '@medplum/fhirtypes';
import { STANDARD_PROPERTY_TYPES } from './codesystem-rules.js';
import type { ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';
import { eclSyntaxProblem } from './snomed-ecl.js';

/**
 * A ValueSet filter on a boolean property of a code system we hold (ValueSet.compose.include.filter,
 * http://hl7.org/fhir/R4/valueset-definitions.html#ValueSet.compose.include.filter.value) is `true`
 * or `false`. The property's type is the code system's declaration, or the standard property's
 * (http://hl7.org/fhir/concept-properties, e.g. notSelectable). The HL7 validator's message. Coding
 * properties are checked in valueset-filters.ts.
 */
export function valueSetBooleanFilterRule(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    for (const filter of equalsFilters(value, path)) {
      const cs = registry.getCodeSystem(filter.system);
      if (!cs) continue;
      const problem = filterValueProblem(propertyType(cs, filter.property), filter.property, filter.value);
      if (problem) ctx.issues.error('code-invalid', filter.path, problem);
    }
  };
}

const SNOMED_CT = 'http://snomed.info/sct';
/**
 * The filter properties whose value is ECL: `constraint` (R4 snomedct.html, the property the HL7
 * validator checks) and `expression` (the filter R4's own SNOMED CT CodeSystem resource declares,
 * "A SNOMED CT ECL expression").
 */
const ECL_PROPERTIES = new Set(['constraint', 'expression']);

/**
 * A ValueSet filter on SNOMED CT whose value is ECL must be valid ECL
 * (ValueSet.compose.include.filter, and exclude). The HL7 validator asks its terminology server
 * and reports an error at the filter: "The value '…' for the filter constraint is invalid: Invalid
 * ECL: '…' - parse error"; here the syntax is checked locally (snomed-ecl.ts).
 */
export const valueSetEclFilterRule: ValueCheck = (value, path, ctx) => {
  for (const filter of equalsFilters(value, path)) {
    if (filter.system !== SNOMED_CT || !ECL_PROPERTIES.has(filter.property)) continue;
    const problem = eclSyntaxProblem(filter.value);
    if (!problem) continue;
    ctx.issues.error('value', filter.path, `The value '${filter.value}' for the filter ${filter.property} is invalid: Invalid ECL: '${filter.value}' - parse error (${problem})`);
  }
};

/** A `property = value` filter of a ValueSet's compose, include or exclude, with where it is. */
interface EqualsFilter {
  system: string;
  property: string;
  value: string;
  path: string;
}

/** The `=` filters of a ValueSet's compose.include and compose.exclude whose system, property and value are strings. */
function equalsFilters(valueSet: unknown, path: string): EqualsFilter[] {
  const compose = (valueSet as { compose?: { include?: unknown; exclude?: unknown } }).compose;
  if (!compose || typeof compose !== 'object') return [];
  const found: EqualsFilter[] = [];
  for (const part of ['include', 'exclude'] as const) {
    const list = compose[part];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: { system?: unknown; filter?: unknown } | null, i) => {
      if (typeof entry?.system !== 'string' || !Array.isArray(entry.filter)) return;
      const system = entry.system;
      entry.filter.forEach((filter: { property?: unknown; op?: unknown; value?: unknown } | null, j) => {
        if (filter?.op !== '=' || typeof filter.property !== 'string' || typeof filter.value !== 'string') return;
        found.push({ system, property: filter.property, value: filter.value, path: `${path}.compose.${part}[${i}].filter[${j}]` });
      });
    });
  }
  return found;
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

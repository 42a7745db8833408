import type { ElementDefinition } from '@medplum/fhirtypes';
import type { ValidationContext } from './context.js';
import type { ProfileItem } from './profile-walk.js';
import { compareQuantities, type QuantityLike } from './quantities.js';

/**
 * ElementDefinition.minValue[x] and maxValue[x] (http://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.minValue_x_):
 * "the minimum allowed value for the element. The value is inclusive." They apply to date, dateTime,
 * instant, time, decimal, integer, positiveInt, unsignedInt and Quantity. Dates and times compare as
 * written (same precision and zone, as profiles give them); Quantities compare after UCUM conversion
 * (quantities.ts), and a quantity whose units cannot be converted to the limit's is an error, as in
 * the HL7 validator.
 */
export function valueLimitChecks(
  def: ElementDefinition,
  label: string,
  url: string,
): Array<(value: unknown, type: string, path: string, ctx: ValidationContext) => void> {
  const checks: Array<(value: unknown, type: string, path: string, ctx: ValidationContext) => void> = [];
  for (const [key, limit] of Object.entries(def)) {
    const isMin = key.startsWith('minValue');
    if (!isMin && !key.startsWith('maxValue')) continue;
    const word = isMin ? 'less than the minimum' : 'greater than the maximum';
    const wrongWay = isMin ? -1 : 1;
    checks.push((value, _type, path, ctx) => {
      const order = compare(value, limit);
      if (order === wrongWay) {
        ctx.issues.error('value', path, `The value ${show(value)} of ${label} is ${word} allowed by profile ${url} (${key} ${show(limit)})`);
      } else if (order === 'incompatible' || order === 'no-units') {
        ctx.issues.error('value', path, `The value ${show(value)} of ${label} cannot be compared with ${key} ${show(limit)} in profile ${url}: ${order === 'no-units' ? 'no coded units' : 'the units are not comparable'}`);
      }
    });
  }
  return checks;
}

function compare(value: unknown, limit: unknown): -1 | 0 | 1 | 'incompatible' | 'no-units' | undefined {
  if (typeof value === 'number' && typeof limit === 'number') return Math.sign(value - limit) as -1 | 0 | 1;
  if (typeof value === 'string' && typeof limit === 'string') return value === limit ? 0 : value < limit ? -1 : 1;
  if (value !== null && typeof value === 'object' && limit !== null && typeof limit === 'object') {
    return compareQuantities(value as QuantityLike, limit as QuantityLike);
  }
  return undefined;
}

function show(x: unknown): string {
  if (x !== null && typeof x === 'object') {
    const q = x as QuantityLike & { unit?: string };
    return `${q.value} ${q.code ?? q.unit ?? ''}`.trim();
  }
  return String(x);
}

const MUST_HAVE_VALUE = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.mustHaveValue';

/**
 * R5's ElementDefinition.mustHaveValue, used in R4 profiles through its cross-version extension
 * (http://hl7.org/fhir/5.0/elementdefinition-definitions.html#ElementDefinition.mustHaveValue): "the
 * value of the primitive data type cannot be replaced by an extension" — a primitive that has only
 * extensions (`_active` without `active`) does not meet it.
 */
export function mustHaveValueChecks(
  def: ElementDefinition,
  label: string,
  url: string,
): Array<(value: unknown, type: string, path: string, ctx: ValidationContext) => void> {
  const required = def.extension?.some((e) => e.url === MUST_HAVE_VALUE && e.valueBoolean === true);
  if (!required) return [];
  return [
    (value, _type, path, ctx) => {
      if (value === undefined) ctx.issues.error('required', path, `The element definition ${label} in the profile ${url} requires that a value be present in this element (mustHaveValue): extensions alone do not do`);
    },
  ];
}

const ADDITIONAL_BINDING = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional';

/**
 * R5's additional bindings (http://hl7.org/fhir/5.0/elementdefinition-definitions.html#ElementDefinition.binding.additional),
 * used in R4 profiles through their cross-version extension: one whose purpose is `required` binds
 * like a required binding ("the value set is required for this element"); the other purposes
 * (maximum, minimum, extensible, candidate, current, preferred, ui, starter, component) describe
 * conformance that a validator cannot judge from one instance, and are not checked.
 */
export function requiredAdditionalBindings(def: ElementDefinition): Array<{ strength: 'required'; valueSet: string }> {
  const out: Array<{ strength: 'required'; valueSet: string }> = [];
  for (const ext of def.binding?.extension ?? []) {
    if (ext.url !== ADDITIONAL_BINDING) continue;
    const purpose = ext.extension?.find((e) => e.url === 'purpose')?.valueCode;
    const valueSet = ext.extension?.find((e) => e.url === 'valueSet')?.valueCanonical;
    if (purpose === 'required' && typeof valueSet === 'string') out.push({ strength: 'required', valueSet });
  }
  return out;
}

const VALUE_ALTERNATIVES = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.valueAlternatives';

/**
 * R5's ElementDefinition.valueAlternatives, through its R4 cross-version extension
 * (http://hl7.org/fhir/5.0/elementdefinition-definitions.html#ElementDefinition.valueAlternatives):
 * "extensions that can appear in place of a primitive value" — a primitive without a value must
 * carry one of them (e.g. data-absent-reason).
 */
export function valueAlternativesChecks(def: ElementDefinition, label: string, url: string): Array<(value: unknown, type: string, path: string, ctx: ValidationContext, item?: ProfileItem) => void> {
  const alternatives = (def.extension ?? []).filter((e) => e.url === VALUE_ALTERNATIVES && typeof e.valueCanonical === 'string').map((e) => e.valueCanonical as string);
  if (alternatives.length === 0) return [];
  return [
    (value, _type, path, ctx, item) => {
      if (value !== undefined || !item) return;
      const extensions = (item.primitiveElement as { extension?: Array<{ url?: unknown }> } | undefined)?.extension ?? [];
      if (extensions.some((e) => typeof e?.url === 'string' && alternatives.includes(e.url))) return;
      ctx.issues.error(
        'required',
        path,
        `The element definition ${label} in the profile ${url} requires that if a value is not present, one of the extensions ${alternatives.join(', ')} must be present`,
      );
    },
  ];
}

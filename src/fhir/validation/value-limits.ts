import type { ElementDefinition } from '@medplum/fhirtypes';
import type { ValidationContext } from './context.js';
import type { ProfileItem } from './profile-walk.js';
import { compareQuantities, type QuantityLike } from './quantities.js';

const UCUM = 'http://unitsofmeasure.org';

/**
 * ElementDefinition.minValue[x] and maxValue[x] (http://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.minValue_x_):
 * "the minimum allowed value for the element. The value is inclusive." They apply to date, dateTime,
 * instant, time, decimal, integer, positiveInt, unsignedInt and Quantity. Dates and times compare as
 * written (same precision and zone, as profiles give them); Quantities compare after UCUM conversion
 * (quantities.ts), and a quantity whose units cannot be converted to the limit's is an error, as in
 * the HL7 validator. A Duration limit on a date, dateTime or instant is relative to now
 * (checkRelativeDateLimit).
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
    checks.push((value, type, path, ctx) => {
      if (DATE_TYPES.has(type) && typeof value === 'string' && limit !== null && typeof limit === 'object') {
        checkRelativeDateLimit(value, limit as QuantityLike & { comparator?: string }, isMin, `${label} (${key} in profile ${url})`, path, ctx);
        return;
      }
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

const DATE_TYPES = new Set(['date', 'dateTime', 'instant']);

/**
 * A Duration as the limit of a date, dateTime or instant is relative to the current time
 * (elementdefinition-definitions.html#ElementDefinition.minValue_x_: "a Duration which specifies a
 * relative time limit to the current time. The duration value is positive, and is subtracted from
 * the current clock to determine the minimum allowable value"; for maxValue it is added). As in the
 * HL7 validator, the duration must be a UCUM time without a comparator, in whole numbers for years,
 * months and milliseconds (calendar units). A partial date is refused only when all of it lies
 * beyond the limit (`1850` against a minimum in 1926, not `1926` itself).
 */
function checkRelativeDateLimit(value: string, limit: QuantityLike & { comparator?: string }, isMin: boolean, where: string, path: string, ctx: ValidationContext): void {
  const written = `${limit.comparator ?? ''}${String(limit.value)} ${limit.code ?? ''}`.trim();
  const bound = limit.comparator === undefined && limit.system === UCUM ? shiftNow(limit, isMin ? -1 : 1) : undefined;
  if (!bound) {
    ctx.issues.error('value', path, `The duration ${written} of ${where} cannot limit a date/time: it must be a whole UCUM time (a, mo, wk, d, h, min, s, ms) without a comparator`);
    return;
  }
  const order = compareDateWithInstant(value, bound);
  if (order === (isMin ? -1 : 1)) {
    const side = isMin ? 'minValue is' : 'maxValue is';
    ctx.issues.error('value', path, `The date/time value '${value}' is not legal: ${side} ${written} ${isMin ? 'before' : 'after'} now (which is ${bound.toISOString().slice(0, 10)}), ${where}`);
  }
}

const MS_PER_UNIT: Readonly<Record<string, number>> = { wk: 604_800_000, d: 86_400_000, h: 3_600_000, min: 60_000, s: 1000, ms: 1 };

/** Now moved by the duration (sign -1: back), or undefined when it is not an exact UCUM time. */
function shiftNow(duration: QuantityLike, sign: 1 | -1): Date | undefined {
  const amount = duration.value;
  const unit = duration.code;
  if (typeof amount !== 'number' || amount < 0 || !unit) return undefined;
  const now = new Date();
  if (unit === 'a' || unit === 'mo' || unit === 'ms') {
    if (!Number.isInteger(amount)) return undefined;
    if (unit === 'a') now.setUTCFullYear(now.getUTCFullYear() + sign * amount);
    else if (unit === 'mo') now.setUTCMonth(now.getUTCMonth() + sign * amount);
    else now.setTime(now.getTime() + sign * amount);
    return now;
  }
  const perUnit = MS_PER_UNIT[unit];
  return perUnit === undefined ? undefined : new Date(now.getTime() + sign * amount * perUnit);
}

/**
 * A date or dateTime against an instant: -1 when all of it is before, 1 when all of it is after,
 * 0 when it contains or equals the instant. A value with a time is an instant itself; a partial
 * date (`1850`, `1850-01`, `1850-01-01`) is compared at its own precision.
 */
function compareDateWithInstant(value: string, bound: Date): -1 | 0 | 1 {
  if (value.includes('T')) {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return 0;
    return Math.sign(at - bound.getTime()) as -1 | 0 | 1;
  }
  const boundAtPrecision = bound.toISOString().slice(0, value.length);
  return value === boundAtPrecision ? 0 : value < boundAtPrecision ? -1 : 1;
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

const MIN_LENGTH = 'http://hl7.org/fhir/StructureDefinition/minLength';

/**
 * The core extension minLength on an element definition (extension-minlength.html: "The minimum
 * number of characters that must be present in the simple data type to be considered a 'valid'
 * instance"), the counterpart of ElementDefinition.maxLength; the HL7 validator checks it on every
 * primitive value.
 */
export function minLengthChecks(def: ElementDefinition, label: string, url: string): Array<(value: unknown, type: string, path: string, ctx: ValidationContext) => void> {
  const min = def.extension?.find((e) => e.url === MIN_LENGTH)?.valueInteger;
  if (typeof min !== 'number') return [];
  return [
    (value, _type, path, ctx) => {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return;
      const text = String(value);
      if (text.length < min) ctx.issues.error('value', path, `Value '${text}' is shorter than permitted minimum length of ${min} (${label} in profile ${url})`);
    },
  ];
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

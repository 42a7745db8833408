/**
 * Lexical rules for the FHIR R4 primitive types, from the `regex` extension on each primitive's
 * `value` element (http://hl7.org/fhir/R4/datatypes.html#primitive) and the JSON representation
 * rules (http://hl7.org/fhir/R4/json.html#primitive).
 *
 * The spec regexes are written for Java, where `\s` is only [ \t\n\x0B\f\r]; JavaScript's `\s` also
 * matches Unicode spaces, so the whitespace classes are spelt out to give the reference validator's
 * answers. Regexes are anchored because the spec's are whole-value matches.
 */

const WS = ' \\t\\n\\x0B\\f\\r';
const S = `[^${WS}]`;
const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const TZ = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';

const anchored = (source: string): RegExp => new RegExp(`^(?:${source})$`);

export const primitiveRegexes = {
  base64Binary: anchored(`([${WS}]*([0-9a-zA-Z\\+/=]){4}[${WS}]*)+`),
  code: anchored(`${S}+([${WS}]${S}+)*`),
  date: anchored(`${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?`),
  dateTime: anchored(`${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T${TIME}${TZ})?)?)?`),
  id: /^[A-Za-z0-9\-.]{1,64}$/,
  instant: anchored(`${YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T${TIME}${TZ}`),
  oid: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/,
  // string and markdown: `[ \r\n\t\S]+`, i.e. anything but vertical tab and form feed.
  string: /^[^\x0B\f]+$/,
  time: anchored(TIME),
  uri: anchored(`${S}*`),
  uuid: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
} as const;

/** JSON type of each R4 primitive (http://hl7.org/fhir/R4/json.html#primitive). */
export const jsonTypeOfPrimitive: Readonly<Record<string, 'string' | 'number' | 'boolean'>> = {
  base64Binary: 'string',
  boolean: 'boolean',
  canonical: 'string',
  code: 'string',
  date: 'string',
  dateTime: 'string',
  decimal: 'number',
  id: 'string',
  instant: 'string',
  integer: 'number',
  markdown: 'string',
  oid: 'string',
  positiveInt: 'number',
  string: 'string',
  time: 'string',
  unsignedInt: 'number',
  uri: 'string',
  url: 'string',
  uuid: 'string',
  xhtml: 'string',
};

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const STRING_MAX_CHARS = 1024 * 1024; // string and markdown: "at most 1MB", http://hl7.org/fhir/R4/datatypes.html#string

/**
 * Returns a problem description for a primitive value in JSON form, or undefined when it is valid.
 * `xhtml` is only type-checked here; its content rules live in xhtml.ts.
 */
export type PrimitiveCheck = (value: unknown) => string | undefined;

function stringCheck(type: string, regex: RegExp | undefined, extra?: (s: string) => string | undefined): PrimitiveCheck {
  return (value) => {
    if (typeof value !== 'string') return wrongJsonType(type, 'string', value);
    if (value.length === 0) return `Empty string: a FHIR ${type} SHALL NOT be empty (omit the element instead)`;
    if (regex && !regex.test(value)) return `${JSON.stringify(truncate(value))} is not a valid ${type}${formatHint[type] ?? ''}`;
    return extra?.(value);
  };
}

function numberCheck(type: string, min: number | undefined, integer: boolean): PrimitiveCheck {
  return (value) => {
    if (typeof value !== 'number') return wrongJsonType(type, 'number', value);
    if (!Number.isFinite(value)) return `${value} is not a valid ${type}`;
    if (integer && !Number.isInteger(value)) return `${value} is not a valid ${type}: it must be a whole number`;
    if (integer && (value > INT_MAX || value < (min ?? INT_MIN))) {
      return `${value} is out of range for ${type} (${min ?? INT_MIN}..${INT_MAX})`;
    }
    return undefined;
  };
}

const formatHint: Record<string, string> = {
  date: ' (expected YYYY, YYYY-MM or YYYY-MM-DD)',
  dateTime: ' (expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone, e.g. 2024-03-01T09:30:00Z)',
  instant: ' (expected YYYY-MM-DDThh:mm:ss[.sss] with a time zone, e.g. 2024-03-01T09:30:00Z)',
  time: ' (expected hh:mm:ss)',
  id: ' (1-64 characters from A-Z, a-z, 0-9, "-" and ".")',
  oid: ' (expected urn:oid:1.2.3...)',
  uuid: ' (expected urn:uuid: and a lower-case UUID)',
  uri: ' (a URI cannot contain whitespace)',
  url: ' (a URL cannot contain whitespace)',
  canonical: ' (a canonical URL cannot contain whitespace)',
  code: ' (a code has no leading, trailing or repeated whitespace)',
  base64Binary: ' (expected base64 text)',
};

/** Rejects dates that match the regex but do not exist, such as 2023-02-30. */
function calendarDate(value: string): string | undefined {
  if (value.length < 10) return undefined;
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day > daysInMonth ? `${value.slice(0, 10)} is not a calendar date (month ${month} has ${daysInMonth} days)` : undefined;
}

export const primitiveChecks: Readonly<Record<string, PrimitiveCheck>> = {
  base64Binary: stringCheck('base64Binary', primitiveRegexes.base64Binary),
  boolean: (value) => (typeof value === 'boolean' ? undefined : wrongJsonType('boolean', 'boolean', value)),
  canonical: stringCheck('canonical', primitiveRegexes.uri, canonicalNotAbsolute),
  code: stringCheck('code', primitiveRegexes.code),
  date: stringCheck('date', primitiveRegexes.date, calendarDate),
  dateTime: stringCheck('dateTime', primitiveRegexes.dateTime, calendarDate),
  decimal: numberCheck('decimal', undefined, false),
  id: stringCheck('id', primitiveRegexes.id),
  instant: stringCheck('instant', primitiveRegexes.instant, calendarDate),
  integer: numberCheck('integer', INT_MIN, true),
  markdown: stringCheck('markdown', primitiveRegexes.string, maxLength('markdown')),
  oid: stringCheck('oid', primitiveRegexes.oid),
  positiveInt: numberCheck('positiveInt', 1, true),
  string: stringCheck('string', primitiveRegexes.string, maxLength('string')),
  time: stringCheck('time', primitiveRegexes.time),
  unsignedInt: numberCheck('unsignedInt', 0, true),
  uri: stringCheck('uri', primitiveRegexes.uri, uuidUri),
  url: stringCheck('url', primitiveRegexes.uri),
  uuid: stringCheck('uuid', primitiveRegexes.uuid),
  xhtml: stringCheck('xhtml', undefined),
};

/**
 * A canonical is absolute, or `#id` for a contained resource (http://hl7.org/fhir/R4/references.html#canonical;
 * the HL7 validator's message).
 */
function canonicalNotAbsolute(value: string): string | undefined {
  if (value.startsWith('#') || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(value)) return undefined;
  return `Canonical URLs must be absolute URLs if they are not fragment references (${value})`;
}

/**
 * A uri that is a urn:uuid (a Bundle fullUrl, a system) follows the R4 uuid type: lower-case
 * hexadecimal (http://hl7.org/fhir/R4/datatypes.html#uuid; the HL7 validator: "UUIDs must be valid
 * and lowercase").
 */
function uuidUri(value: string): string | undefined {
  if (!/^urn:uuid:/i.test(value) || primitiveRegexes.uuid.test(value)) return undefined;
  return `UUIDs must be valid and lowercase (${truncate(value.slice(9))})`;
}

function maxLength(type: string): (s: string) => string | undefined {
  return (s) => (s.length > STRING_MAX_CHARS ? `A FHIR ${type} is limited to 1 MB; this one has ${s.length} characters` : undefined);
}

function wrongJsonType(type: string, expected: string, value: unknown): string {
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `A FHIR ${type} is a JSON ${expected} but this value is a JSON ${actual}${
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? ` (${JSON.stringify(value)})` : ''
  }`;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

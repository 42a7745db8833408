import { isDecimalText } from './decimal.js';

/**
 * JSON forms of primitive values (http://hl7.org/fhir/R4/json.html#primitive): boolean as
 * true/false, integer/positiveInt/unsignedInt and decimal as numbers, everything else a string.
 * Lexical rules from http://hl7.org/fhir/R4/datatypes.html#primitive.
 */
export type PrimitiveJson = string | number | boolean;

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const UNSIGNED_INT = /^(?:0|[1-9][0-9]*)$/;
const POSITIVE_INT = /^\+?[1-9][0-9]*$/;
const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** Returns the JSON value of an XML `value` attribute, or an error message. */
export function primitiveFromXml(type: string, text: string): PrimitiveJson | { error: string } {
  switch (type) {
    case 'boolean':
      if (text === 'true') return true;
      if (text === 'false') return false;
      return { error: `'${text}' is not a boolean (true or false)` };
    case 'integer':
      return integerFrom(text, INTEGER, INT32_MIN, 'an integer');
    case 'unsignedInt':
      return integerFrom(text, UNSIGNED_INT, 0, 'an unsignedInt');
    case 'positiveInt':
      return integerFrom(text, POSITIVE_INT, 1, 'a positiveInt');
    case 'decimal':
      if (!isDecimalText(text)) return { error: `'${text}' is not a decimal` };
      return decimalFrom(text);
    default:
      return text;
  }
}

function decimalFrom(text: string): number | { error: string } {
  const n = Number(text);
  return Number.isFinite(n) ? n : { error: `${text} is beyond the range of a decimal number` };
}

function integerFrom(text: string, pattern: RegExp, min: number, what: string): number | { error: string } {
  if (!pattern.test(text)) return { error: `'${text}' is not ${what}` };
  const n = Number(text);
  if (n < min || n > INT32_MAX) return { error: `${text} is out of range for ${what} (32-bit)` };
  return n;
}

/** Returns the XML text of a JSON primitive value checked against its type, or an error message. */
export function primitiveToXml(type: string, value: unknown): string | { error: string } {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean' ? String(value) : { error: `expected a boolean, got ${describe(value)}` };
    case 'integer':
      return integerTo(value, INT32_MIN, 'an integer');
    case 'unsignedInt':
      return integerTo(value, 0, 'an unsignedInt');
    case 'positiveInt':
      return integerTo(value, 1, 'a positiveInt');
    case 'decimal':
      // The caller substitutes the recorded text (decimal.ts) when there is one.
      return typeof value === 'number' && Number.isFinite(value)
        ? String(value)
        : { error: `expected a decimal number, got ${describe(value)}` };
    default:
      if (typeof value !== 'string') return { error: `expected a string, got ${describe(value)}` };
      // "Strings SHALL NOT be empty" (http://hl7.org/fhir/R4/datatypes.html#string); XML would
      // need value="", which no FHIR XML parser accepts.
      if (value.length === 0) return { error: 'empty string' };
      return value;
  }
}

function integerTo(value: unknown, min: number, what: string): string | { error: string } {
  if (typeof value !== 'number' || !Number.isInteger(value)) return { error: `expected ${what}, got ${describe(value)}` };
  if (value < min || value > INT32_MAX) return { error: `${value} is out of range for ${what} (32-bit)` };
  return String(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

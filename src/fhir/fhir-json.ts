import { parseFhirJson } from './xml/index.js';

/**
 * Numbers whose written text is not JavaScript's shortest form: trailing zeros (1.50), exponents,
 * or more digits than a double keeps. Only JSON that may hold one takes the slower
 * precision-keeping parse (about 5x JSON.parse); a false positive costs time, never correctness.
 */
const MAY_NEED_DECIMAL_TEXT = /\d\.\d*0(?=[\s,\]}])|\d[eE][+-]?\d|\d{16}/;

/** Parses FHIR JSON text, keeping decimal precision (see xml/decimal.ts). */
export function parseJsonKeepingDecimals(text: string): unknown {
  if (!MAY_NEED_DECIMAL_TEXT.test(text)) return JSON.parse(text);
  return parseFhirJsonValue(text);
}

function parseFhirJsonValue(text: string): unknown {
  try {
    return parseFhirJson(text, { maxBytes: Number.MAX_SAFE_INTEGER });
  } catch {
    // not a resource object (e.g. a JSON Patch array): plain parse, which also reports syntax errors
    return JSON.parse(text);
  }
}

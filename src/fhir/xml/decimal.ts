/**
 * Decimal precision. FHIR decimals keep their written precision: "1.50" is not "1.5"
 * (http://hl7.org/fhir/R4/datatypes.html#decimal, http://hl7.org/fhir/R4/json.html#primitive).
 *
 * Design: in a resource object a decimal is a plain JS `number`, as @medplum/fhirtypes types it,
 * so every other module reads `quantity.value` as a number. Where the written text differs from
 * the number's shortest form (trailing zeros, exponent, more digits than a double keeps), the
 * parsers record the text here, keyed by the object (or array) holding the number and the
 * property name (or index). The formatters write the recorded text instead of String(number), but
 * only while the number still equals that text's value, so an edited value is never overridden.
 * The table is a WeakMap: it adds nothing to the objects and is freed with them. A structural copy
 * (spread, structuredClone) carries the numbers but not their texts, so precision is kept along
 * parse -> format paths, not through copies.
 */
const texts = new WeakMap<object, Map<string, string>>();

/** FHIR decimal (http://hl7.org/fhir/R4/datatypes.html#decimal); also the JSON number grammar. */
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

export function isDecimalText(text: string): boolean {
  return DECIMAL.test(text);
}

/** Records `text` as the written form of `holder[key]` when it is not the number's shortest form. */
export function rememberDecimalText(holder: object, key: string, value: number, text: string): void {
  if (String(value) === text) return;
  let byKey = texts.get(holder);
  if (!byKey) {
    byKey = new Map();
    texts.set(holder, byKey);
  }
  byKey.set(key, text);
}

/** The text to write for `holder[key]`: the recorded text if it still denotes `value`. */
export function decimalText(holder: object, key: string, value: number): string {
  const text = texts.get(holder)?.get(key);
  if (text !== undefined && Number(text) === value) return text;
  return String(value);
}

/** The recorded text of `holder[key]`, if any and still current (for the JSON formatter). */
export function recordedDecimalText(holder: object, key: string, value: number): string | undefined {
  const text = texts.get(holder)?.get(key);
  return text !== undefined && Number(text) === value ? text : undefined;
}

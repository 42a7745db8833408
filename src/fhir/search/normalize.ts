/**
 * String search is case- and accent-insensitive (http://hl7.org/fhir/R4/search.html#string):
 * index values and search values are both lower-cased and stripped of combining marks.
 */
export function normalizeString(s: string): string {
  // ASCII has no combining marks and is its own NFD: only the case changes (most values, cheaply)
  if (ASCII.test(s)) return s.toLowerCase();
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

const ASCII = /^[\x00-\x7f]*$/;

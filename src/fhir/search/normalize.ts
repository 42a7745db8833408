/**
 * String search is case- and accent-insensitive (http://hl7.org/fhir/R4/search.html#string):
 * index values and search values are both lower-cased and stripped of combining marks.
 */
export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

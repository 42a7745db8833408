import type { Resource } from '@medplum/fhirtypes';

/** Statuses a map sets as its default (a row says nothing about them): they never overwrite a stored status. */
const DEFAULT_STATUSES = new Set(['active', 'requested']);

/**
 * A partner's record applied to the stored resource it is about: what the record says replaces
 * what is stored, field by field; what it does not say is kept (a CMHT system knows a person's
 * postcode, not the phone number the GP gave). Lists are joined: identifiers by system and
 * value, extensions by url (the record's value wins), anything else added when not already there. A status
 * the map set by default never reopens or moves a stored one.
 */
export function mergeRecord<T extends Resource>(stored: T, incoming: T): T {
  const out: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(incoming)) {
    if (key === 'id' || key === 'meta' || key === 'resourceType') continue;
    if (key === 'status' && DEFAULT_STATUSES.has(value as string) && (stored as { status?: string }).status) continue;
    if (key === 'intent' && (stored as { intent?: string }).intent) continue;
    const current = out[key];
    if (Array.isArray(value) && Array.isArray(current)) out[key] = joinLists(key, current, value);
    else out[key] = value;
  }
  return out as T;
}

function joinLists(key: string, current: unknown[], incoming: unknown[]): unknown[] {
  // an identifier is joined on system and value (a person may have two local ids); an extension on its url
  const keyOf =
    key === 'identifier' ? (x: unknown) => `${(x as { system?: string }).system}|${(x as { value?: string }).value}` : key === 'extension' ? (x: unknown) => (x as { url?: string }).url : undefined;
  if (keyOf) {
    const replaced = new Set(incoming.map(keyOf));
    return [...current.filter((x) => !replaced.has(keyOf(x))), ...incoming];
  }
  const seen = new Set(current.map((x) => JSON.stringify(x)));
  return [...current, ...incoming.filter((x) => !seen.has(JSON.stringify(x)))];
}

import type { Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest } from '../errors.js';

/**
 * An If-Match or If-None-Match header: the version it names (W/"3", "3", or a bare 3), or, for any
 * other well-formed entity tag (RFC 7232 §2.3, such as W/"stale-7"), `unissued`: a tag this server
 * never gave out, which matches no version. Only a header that is not an entity tag at all is a
 * 400; a tag that does not match is the precondition failing (http://hl7.org/fhir/R4/http.html#concurrency).
 */
export type VersionTag = { version: number } | { unissued: string };

const VERSION = /^(?:(?:W\/)?"(\d{1,9})"|(\d{1,9}))$/;
/** entity-tag = [ W/ ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (RFC 7232 §2.3). */
const ENTITY_TAG = /^(?:W\/)?"[\x21\x23-\x7E\x80-\xFF]*"$/;

export function parseVersionTag(header: string | undefined, name: string): VersionTag | undefined {
  if (header === undefined || header === '') return undefined;
  const text = header.trim();
  const m = VERSION.exec(text);
  if (m) return { version: Number(m[1] ?? m[2]) };
  if (ENTITY_TAG.test(text)) return { unissued: text };
  throw badRequest(`${name} must be an entity tag such as W/"1", got '${header}'`, name);
}

/**
 * The version an If-Match requires, as the store takes it. A tag the server never issued cannot
 * match the current version, so it fails like a stale one: 412 (http.html#concurrency, RFC 7232 §3.1).
 */
export function requiredVersion(tag: VersionTag | undefined, what: string): number | undefined {
  if (tag && 'unissued' in tag) {
    throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `If-Match ${tag.unissued} does not match the current version of ${what}: this server's versions are W/"1", W/"2", …`);
  }
  return tag?.version;
}

/** ETag, Last-Modified and (optionally) Location of a stored resource version. */
export function versionHeaders(resource: Resource, baseUrl: string, withLocation = false): Record<string, string> {
  const h: Record<string, string> = {};
  if (resource.meta?.versionId) h.ETag = `W/"${resource.meta.versionId}"`;
  if (resource.meta?.lastUpdated) h['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  if (withLocation) h.Location = `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
  return h;
}

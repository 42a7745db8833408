import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../errors.js';

/** Reads a version from an ETag-style header: W/"3" or "3" (http://hl7.org/fhir/R4/http.html#versioning). */
export function parseVersionTag(header: string | undefined, name: string): number | undefined {
  if (header === undefined || header === '') return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!m) throw badRequest(`${name} must be a version tag such as W/"1", got '${header}'`, name);
  return Number(m[1]);
}

/** ETag, Last-Modified and (optionally) Location of a stored resource version. */
export function versionHeaders(resource: Resource, baseUrl: string, withLocation = false): Record<string, string> {
  const h: Record<string, string> = {};
  if (resource.meta?.versionId) h.ETag = `W/"${resource.meta.versionId}"`;
  if (resource.meta?.lastUpdated) h['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  if (withLocation) h.Location = `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
  return h;
}

export interface ParsedReference {
  type?: string;
  id?: string;
  /** The version of a versioned reference (`…/_history/2`). */
  version?: string;
  /** Set when the reference is absolute and not a plain Type/id. */
  url?: string;
}

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const ABSOLUTE = /^(https?:\/\/.+)\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

/**
 * Splits a reference into type and id (http://hl7.org/fhir/R4/references.html#literal). A version
 * suffix is returned apart, as `version` (search ignores it: it matches the resource, not one
 * version of it). An absolute URL keeps its URL and, where it ends in Type/id, its type and id too.
 */
export function parseReferenceString(ref: string): ParsedReference {
  const rel = RELATIVE.exec(ref);
  if (rel) return { type: rel[1], id: rel[2], ...(rel[3] ? { version: rel[3] } : {}) };
  const abs = ABSOLUTE.exec(ref);
  if (abs) return { type: abs[2], id: abs[3], ...(abs[4] ? { version: abs[4] } : {}), url: ref.replace(/\/_history\/.*$/, '') };
  return { url: ref };
}

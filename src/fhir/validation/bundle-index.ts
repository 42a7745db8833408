/**
 * Resolving references between the entries of a Bundle (http://hl7.org/fhir/R4/bundle.html#references):
 * 1. a version-specific reference (`…/_history/v`) is matched without its version, then against the
 *    entry's meta.versionId;
 * 2. an absolute reference (a URL, `urn:uuid:`, `urn:oid:`) matches an entry's fullUrl;
 * 3. a relative reference (`Type/id`) is resolved against the [base] of the fullUrl of the entry that
 *    holds it, when that fullUrl is a RESTful URL (`[base]/Type/id`), and then matches a fullUrl;
 * 4. anything else cannot be resolved inside the Bundle (it may be resolvable outside it).
 *
 * Two readings of rule 3, as in the HL7 validator. `loose` (every reference): the base is the
 * fullUrl without its last two segments, and a `urn:uuid:`/`urn:oid:` fullUrl gives the base
 * `urn:uuid:`/`urn:oid:` (so `Practitioner/x` in an entry `urn:uuid:…` names `urn:uuid:x`). `strict`
 * (what a document or a message must carry): only a RESTful fullUrl that ends with the holding
 * resource's own type and id gives a base.
 */

export interface BundleEntryInfo {
  index: number;
  fullUrl?: string;
  resourceType?: string;
  id?: string;
  versionId?: string;
}

export interface BundleIndex {
  /** Bundle.type (document, message, transaction, collection, …). */
  type?: string;
  entries: BundleEntryInfo[];
  byFullUrl: Map<string, BundleEntryInfo[]>;
  /** Entries by `Type/id` of their resource, to explain a relative reference that misses. */
  byTypeAndId: Map<string, BundleEntryInfo[]>;
  /** The entry that holds a resource (the resource's JSON object). */
  entryOf: Map<object, BundleEntryInfo>;
}

export function indexBundle(bundle: Record<string, unknown>): BundleIndex {
  const index: BundleIndex = {
    type: typeof bundle.type === 'string' ? bundle.type : undefined,
    entries: [],
    byFullUrl: new Map(),
    byTypeAndId: new Map(),
    entryOf: new Map(),
  };
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  entries.forEach((entry: unknown, i) => {
    const e = (entry ?? {}) as { fullUrl?: unknown; resource?: Record<string, unknown> };
    const resource = e.resource !== null && typeof e.resource === 'object' ? e.resource : undefined;
    const meta = resource?.meta as { versionId?: unknown } | undefined;
    const info: BundleEntryInfo = {
      index: i,
      fullUrl: typeof e.fullUrl === 'string' ? e.fullUrl : undefined,
      resourceType: typeof resource?.resourceType === 'string' ? resource.resourceType : undefined,
      id: typeof resource?.id === 'string' ? resource.id : undefined,
      versionId: typeof meta?.versionId === 'string' ? meta.versionId : undefined,
    };
    index.entries.push(info);
    if (info.fullUrl) push(index.byFullUrl, info.fullUrl, info);
    if (info.resourceType && info.id) push(index.byTypeAndId, `${info.resourceType}/${info.id}`, info);
    if (resource) index.entryOf.set(resource, info);
  });
  return index;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
const HISTORY = /^(.*)\/_history\/([^/]+)$/;
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;
/** A RESTful fullUrl: [base]/Type/id (http://hl7.org/fhir/R4/references.html#literal). */
const RESTFUL = /^(https?:\/\/.+\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;
const URN_BASE = /^urn:(?:uuid|oid):/;

/** The base a relative reference in this entry is resolved against, if any. */
function baseOf(from: BundleEntryInfo, strict: boolean): string | undefined {
  const fullUrl = from.fullUrl as string;
  const restful = RESTFUL.exec(fullUrl);
  if (restful) return !strict || (restful[2] === from.resourceType && restful[3] === from.id) ? restful[1] : undefined;
  if (strict) return undefined;
  return URN_BASE.exec(fullUrl)?.[0];
}

export type BundleResolution =
  /** The one entry the reference names. */
  | { kind: 'found'; entry: BundleEntryInfo }
  /** Not in the Bundle: `target` is the fullUrl looked for; `sameTypeAndId`: entries that look like a near miss. */
  | { kind: 'missing'; target?: string; sameTypeAndId: BundleEntryInfo[]; versionMissing?: BundleEntryInfo[] }
  /** Several entries match. */
  | { kind: 'ambiguous'; entries: BundleEntryInfo[] }
  /** A relative reference in an entry without a fullUrl: nothing to resolve it against. */
  | { kind: 'no-base' };

/**
 * Resolves a literal reference held by the resource of entry `from` (undefined: the reference is in
 * the Bundle itself). `#id` and conditional references are not for this function.
 */
export function resolveInBundle(index: BundleIndex, reference: string, from: BundleEntryInfo | undefined, strict = false): BundleResolution {
  const versioned = HISTORY.exec(reference);
  const unversioned = versioned ? versioned[1] : reference;
  const version = versioned?.[2];
  let target: string | undefined;
  if (SCHEME.test(unversioned)) {
    target = unversioned;
  } else {
    const relative = RELATIVE.exec(unversioned);
    if (!relative) return { kind: 'missing', sameTypeAndId: [] };
    if (from && from.fullUrl === undefined) return { kind: 'no-base' };
    const base = from ? baseOf(from, strict) : undefined;
    target = base === undefined ? undefined : base.startsWith('urn:') ? base + (relative[2] as string) : base + unversioned;
  }
  const candidates = target === undefined ? [] : (index.byFullUrl.get(target) ?? []);
  const matches = version === undefined ? candidates : candidates.filter((e) => e.versionId === version);
  if (matches.length === 1) return { kind: 'found', entry: matches[0] };
  if (matches.length > 1) return { kind: 'ambiguous', entries: matches };
  const relative = RELATIVE.exec(unversioned);
  const sameTypeAndId = relative ? (index.byTypeAndId.get(unversioned) ?? []).filter((e) => e.fullUrl !== target) : [];
  return { kind: 'missing', target, sameTypeAndId, versionMissing: version !== undefined && candidates.length > 0 ? candidates : undefined };
}

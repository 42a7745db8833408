import type { Resource } from '@medplum/fhirtypes';
import { isResourceType } from '../../fhir/resource-types.js';
import { parseReferenceString } from '../../fhir/search/reference.js';
import { referencesIn } from '../../fhir/validation/bundle-rules.js';
import type { ResourceStore } from '../../store/resource-store.js';

/** At most this many distinct references are read for one `$validate` (a large Bundle's would be many reads for little). */
export const MAX_STORED_REFERENCES = 100;

/**
 * The stored resources that a resource's references name, read before `$validate` so that the
 * validator can check them against a reference's target profiles, as the HL7 validator does with
 * its resource fetcher (ElementDefinition.type.targetProfile: "the target resource SHALL conform to
 * at least one profile"). A reference is read when it is relative (`Patient/1`, also versioned) or
 * absolute on this server's base; contained (`#x`), `urn:` and other servers' references are not,
 * nor a Bundle's own entries (the validator resolves those by the Bundle's rules). Reads go through
 * the caller's store, so only what the principal may see is found; what is not found is simply not
 * checked. Returns a reader for `ValidateOptions.resolveReference`.
 */
export async function readReferencedResources(store: ResourceStore, resource: Resource, baseUrl: string): Promise<(reference: string) => Record<string, unknown> | undefined> {
  const inBundle = entryKeys(resource);
  const wanted = new Map<string, { type: string; id: string; version?: string }>();
  for (const { reference } of referencesIn(resource as unknown as Record<string, unknown>, resource.resourceType)) {
    if (wanted.size >= MAX_STORED_REFERENCES) break;
    const { type, id, version, url } = parseReferenceString(reference.startsWith(`${baseUrl}/`) ? reference.slice(baseUrl.length + 1) : reference);
    if (url || !type || !id || !isResourceType(type) || inBundle.has(`${type}/${id}`)) continue;
    wanted.set(reference, { type, id, version });
  }
  const found = new Map<string, Record<string, unknown>>();
  for (const [reference, { type, id, version }] of wanted) {
    const target = version ? await store.vread(type, id, version).catch(() => undefined) : await store.readOrUndefined(type, id);
    if (target) found.set(reference, target as unknown as Record<string, unknown>);
  }
  return (reference) => found.get(reference);
}

/** `Type/id` of each entry of a Bundle: references to these are the Bundle's to resolve. */
function entryKeys(resource: Resource): Set<string> {
  const keys = new Set<string>();
  if (resource.resourceType !== 'Bundle') return keys;
  for (const entry of resource.entry ?? []) {
    if (entry.resource?.id) keys.add(`${entry.resource.resourceType}/${entry.resource.id}`);
  }
  return keys;
}

import { type BundleEntryInfo, type BundleIndex, resolveInBundle } from './bundle-index.js';
import type { ValidationContext, ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * Rules about a Bundle as a whole (http://hl7.org/fhir/R4/bundle.html), with the HL7 validator's
 * severities and messages: what each entry's fullUrl must be, what a document must carry and how its
 * entries hang together (documents.html), and what a message's header must find in it
 * (messaging.html). Each reference on its own is resolved in references.ts.
 */

const REQUESTS = new Set(['transaction', 'batch', 'transaction-response', 'batch-response']);
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
const RESTFUL = /^https?:\/\/.+\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

/**
 * Each entry's fullUrl: present when the entry has a resource ("The fullUrl element SHALL have a
 * value except that fullUrl can be empty on a POST … [and] results from operations might involve
 * resources that are not identified", bundle-definitions.html#Bundle.entry.fullUrl: so except in
 * transactions, batches and their responses, and a search's own outcome), an error in every kind of
 * Bundle as in the HL7 validator, with the rule key `entry-fullurl` by which a message receiver
 * accepts it (messaging/content-policy.ts); absolute, and when it is a RESTful URL
 * ([base]/Type/id) its resource has that type and id: "The fullUrl SHALL NOT disagree with the id in
 * the resource" (bundle.html#bundle-unique). In a message these two are only warnings (the HL7
 * validator says error): the receiver gives every resource its own id, what
 * the message must carry is checked by the references that need it, and a referral is not refused
 * for what does not stop it being read or routed. A URL is RESTful only when the segment before its
 * id names a resource type, as in the HL7 validator (its RESTful URL pattern lists the resource
 * names): `http://x.org/fhir/test/Obervation/1`, with a misspelt type, is just a URL that happens to
 * have slashes, and an identity may be any absolute URL.
 */
export const bundleEntryFullUrlRule = (registry: ConformanceRegistry): ValueCheck => (value, path, ctx) => {
  const bundle = value as { type?: unknown; entry?: unknown };
  if (!Array.isArray(bundle.entry)) return;
  const requests = typeof bundle.type === 'string' && REQUESTS.has(bundle.type);
  const severity = bundle.type === 'message' ? 'warning' : 'error';
  bundle.entry.forEach((entry, i) => {
    const e = entry as { fullUrl?: unknown; resource?: { id?: unknown; resourceType?: unknown }; search?: { mode?: unknown } } | null;
    if (e === null || typeof e !== 'object') return;
    const where = `${path}.entry[${i}]`;
    if (typeof e.fullUrl !== 'string') {
      // a searchset's OperationOutcome about the search itself (search.mode outcome) is nobody's resource
      if (e.fullUrl === undefined && e.resource !== undefined && !requests && e.search?.mode !== 'outcome') {
        const message = 'Except for transactions and batches, each entry in a Bundle must have a fullUrl which is the identity of the resource in the entry';
        ctx.issues.error('required', where, message, 'entry-fullurl');
      }
      return;
    }
    if (!SCHEME.test(e.fullUrl)) {
      ctx.issues.add(severity, 'value', `${where}.fullUrl`, `The fullUrl must be an absolute URL (not '${e.fullUrl}')`);
      return;
    }
    const restful = RESTFUL.exec(e.fullUrl.replace(/\/_history\/[^/]*$/, ''));
    const resource = e.resource;
    if (!restful || !registry.isResourceType(restful[1])) return;
    if (resource === null || typeof resource !== 'object' || typeof resource.resourceType !== 'string') return;
    if (resource.id === undefined) {
      if (!requests) ctx.issues.add(severity, 'value', `${where}.fullUrl`, `The fullUrl '${e.fullUrl}' looks like a RESTful server URL, but the resource has no id`);
    } else if (restful[1] !== resource.resourceType || restful[2] !== resource.id) {
      const message = `The fullUrl '${e.fullUrl}' looks like a RESTful server URL, so it must end with the correct type and id (/${resource.resourceType}/${String(resource.id)})`;
      ctx.issues.add(severity, 'value', `${where}.fullUrl`, message);
    }
  });
};

/** A literal reference found in an entry's resource, with its FHIRPath. */
interface FoundReference {
  reference: string;
  /** Path of the Reference element, e.g. `Bundle.entry[0].resource.section[0].entry[1]`. */
  path: string;
  /** The element it is, without indexes, e.g. `Composition.section.entry`. */
  element: string;
}

/** Literal references (Reference.reference) anywhere in a resource, contained resources included; not `#id` or conditional ones. */
export function referencesIn(resource: Record<string, unknown>, path: string): FoundReference[] {
  const out: FoundReference[] = [];
  const walk = (node: unknown, at: string, element: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${at}[${i}]`, element));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (typeof obj.reference === 'string' && !obj.reference.startsWith('#') && !(obj.reference.includes('?') && !SCHEME.test(obj.reference))) {
      out.push({ reference: obj.reference, path: at, element });
    }
    for (const key in obj) {
      if (key === 'reference' || key === 'resourceType' || key.startsWith('_')) continue;
      const value = obj[key];
      if (value !== null && typeof value === 'object') walk(value, `${at}.${key}`, key === 'contained' ? `${element}.contained` : `${element}.${key}`);
    }
  };
  walk(resource, path, String(resource.resourceType));
  return out;
}

/**
 * What a document's Composition refers to and the document must include (documents.html#content):
 * the subject, encounter, authors, attesters, custodian and the sections' authors, focus and entries.
 */
const DOCUMENT_CONTENT = /^Composition\.(subject|encounter|author|attester\.party|custodian|(section\.)+(author|focus|entry))$/;

/**
 * A document (Bundle.type document) is read from its Composition, so its references are resolved
 * strictly (bundle-index.ts): what the Composition must carry has to be found ("Can't find … in the
 * bundle"); a reference anywhere that misses an entry with the same type and id only because of the
 * fullUrl rules is an error; and every entry must be reachable from the Composition by following
 * references forwards or backwards (an error), and should be forwards (a warning, except Provenance).
 */
export const bundleDocumentRule: ValueCheck = (value, path, ctx) => {
  const bundle = value as { type?: unknown; entry?: unknown };
  const index = ctx.bundle;
  if (bundle.type !== 'document' || !Array.isArray(bundle.entry) || !index || index.entries.length === 0) return;
  const edges = new Map<number, Set<number>>();
  bundle.entry.forEach((entry, i) => {
    const resource = (entry as { resource?: unknown } | null)?.resource;
    if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) return;
    const from = index.entries[i];
    for (const ref of referencesIn(resource as Record<string, unknown>, `${path}.entry[${i}].resource`)) {
      const resolved = resolveInBundle(index, ref.reference, from, true);
      if (resolved.kind === 'found') {
        if (!edges.has(i)) edges.set(i, new Set());
        edges.get(i)!.add(resolved.entry.index);
        continue;
      }
      if (resolved.kind !== 'missing') continue; // ambiguous and base-less references: references.ts
      const required = i === 0 && from.resourceType === 'Composition' && DOCUMENT_CONTENT.test(ref.element);
      if (required || resolved.sameTypeAndId.length > 0) {
        const note = resolved.sameTypeAndId.length
          ? `. Note that there is a resource in the bundle with the same type and id, but it does not match because of the fullUrl based rules around matching relative references (found ${resolved.sameTypeAndId.map((e) => e.fullUrl ?? 'no fullUrl').join(', ')})`
          : '';
        ctx.issues.error('not-found', ref.path, `Can't find '${ref.reference}' in the bundle (${required ? ref.element : ref.path})${note}`);
      }
    }
  });
  reportUnreachable(index, edges, path, ctx);
};

function reportUnreachable(index: BundleIndex, edges: Map<number, Set<number>>, path: string, ctx: ValidationContext): void {
  const forward = reach(0, (i) => edges.get(i) ?? []);
  const backward = new Map<number, number[]>();
  for (const [from, tos] of edges) for (const to of tos) backward.set(to, [...(backward.get(to) ?? []), from]);
  const linked = reach(0, (i) => [...(edges.get(i) ?? []), ...(backward.get(i) ?? [])]);
  for (const entry of index.entries) {
    if (entry.index === 0 || entry.resourceType === undefined) continue;
    const name = entry.fullUrl ?? `${entry.resourceType}/${entry.id ?? ''}`;
    if (!linked.has(entry.index)) {
      ctx.issues.error('business-rule', `${path}.entry[${entry.index}]`, `Entry '${name}' isn't reachable by traversing links (forward or backward) from the Composition`);
    } else if (!forward.has(entry.index) && entry.resourceType !== 'Provenance') {
      ctx.issues.warning('business-rule', `${path}.entry[${entry.index}]`, `Entry '${name}' isn't reachable by traversing forwards from the Composition. Only Provenance is approved to be used this way (R4 section 3.3.1)`);
    }
  }
}

/** Whether an entry's fullUrl ends with the Type/id a reference ends with. */
function namedByTail(index: BundleIndex, reference: string): boolean {
  const tail = /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})$/.exec(reference)?.[1];
  return tail !== undefined && index.entries.some((e) => e.fullUrl?.endsWith(`/${tail}`) || `${e.resourceType}/${e.id}` === tail);
}

function reach(start: number, next: (i: number) => Iterable<number>): Set<number> {
  const seen = new Set<number>([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const n of next(queue.shift() as number)) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return seen;
}

/**
 * A message (Bundle.type message) is read from its MessageHeader: what its focus names must be in it
 * (messaging.html), an error when no entry is it. A focus that names an entry only by its type and id
 * (not by the Bundle's rules) is a warning where the HL7 validator says error: BaRS receivers find
 * such a focus, and a referral is not refused for it.
 */
export const bundleMessageRule: ValueCheck = (value, path, ctx) => {
  const bundle = value as { type?: unknown; entry?: unknown };
  const index = ctx.bundle;
  if (bundle.type !== 'message' || !Array.isArray(bundle.entry) || !index) return;
  const header = (bundle.entry[0] as { resource?: { resourceType?: unknown; focus?: unknown } } | null)?.resource;
  if (header?.resourceType !== 'MessageHeader' || !Array.isArray(header.focus)) return;
  const from: BundleEntryInfo = index.entries[0];
  header.focus.forEach((focus, i) => {
    const reference = (focus as { reference?: unknown } | null)?.reference;
    if (typeof reference !== 'string' || reference.startsWith('#')) return;
    const resolved = resolveInBundle(index, reference, from, true);
    if (resolved.kind !== 'missing') return;
    const where = `${path}.entry[0].resource.focus[${i}]`;
    const byTypeAndId = resolved.sameTypeAndId.length > 0 || resolveInBundle(index, reference, from).kind === 'found' || namedByTail(index, reference);
    if (byTypeAndId) {
      ctx.issues.warning('not-found', where, `Can't find '${reference}' in the bundle (MessageHeader.focus) by the Bundle's rules; an entry matches it only by type and id`);
    } else {
      ctx.issues.error('not-found', where, `Can't find '${reference}' in the bundle (MessageHeader.focus)`);
    }
  });
};

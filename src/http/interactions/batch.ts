import { randomUUID } from 'node:crypto';
import type { AuditEvent, Bundle, BundleEntry, BundleEntryResponse, Resource } from '@medplum/fhirtypes';
import type { AuditScope } from '../../audit/audit-scope.js';
import { interactionAuditEvent } from '../../audit/request-event.js';
import { FhirError, FhirErrorCode, badRequest, relocate, toOperationOutcome } from '../../errors.js';
import { parseSearch } from '../../fhir/search/parse.js';
import type { FhirRequest, FhirResponse } from '../fhir-request.js';
import { authorizeFhirRequest, routeFhirRequest } from '../fhir-router.js';
import { requireAccess } from '../../security/access.js';
import type { Handler, InteractionContext } from './context.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** Transaction processing order (http://hl7.org/fhir/R4/http.html#trules). */
const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
const REASON: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified' };

interface Planned {
  index: number;
  req: FhirRequest;
  fullUrl?: string;
}

/** POST [base] with a batch or transaction Bundle (http://hl7.org/fhir/R4/http.html#transaction). */
export const processBundle: Handler = async (ctx, req) => {
  const bundle = req.body as Bundle | undefined;
  if (!bundle || bundle.resourceType !== 'Bundle') throw badRequest('POST to the base URL takes a batch or transaction Bundle', 'resourceType');
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') throw badRequest(`Bundle.type must be batch or transaction, got '${bundle.type}'`, 'Bundle.type');
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be an array', 'Bundle.entry');
  // a Bundle refused whole is audited as the batch or transaction it is
  if (ctx.origin.audit) ctx.origin.audit.interaction = bundle.type;
  if (entries.length > ctx.maxBundleEntries) throw new FhirError(FhirErrorCode.TOO_LARGE, { message: `The Bundle has ${entries.length} entries; at most ${ctx.maxBundleEntries} are accepted`, expression: 'Bundle.entry' });
  const body = bundle.type === 'batch' ? await batch(ctx, entries) : await transaction(ctx, entries);
  return { status: 200, headers: {}, body };
};

async function batch(ctx: InteractionContext, entries: BundleEntry[]): Promise<Bundle> {
  const out: BundleEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const part = ctx.origin.audit?.child();
    let req: FhirRequest | undefined;
    try {
      req = entryRequest(ctx, entries[i], i);
      if (req.path === '' && req.method === 'POST') throw badRequest('A batch entry cannot itself be a batch or transaction', `Bundle.entry[${i}].request.url`);
      const res = await routeFhirRequest(withAudit(ctx, part), req);
      out.push(responseEntry(res));
      settleEntry(ctx, part, i, req, res.status, res.body);
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      out.push({ response: { status: statusLine(err.status), outcome: toOperationOutcome(locate(err, i, entries[i]?.resource)) } });
      settleEntry(ctx, part, i, req, err.status, undefined, err);
    }
  }
  return { resourceType: 'Bundle', type: 'batch-response', entry: out };
}

async function transaction(ctx: InteractionContext, entries: BundleEntry[]): Promise<Bundle> {
  const planned = entries.map((e, i) => ({ index: i, req: entryRequest(ctx, e, i), fullUrl: e.fullUrl }));
  rejectDuplicates(planned);
  // every entry's scopes before anything is searched or written: a conditional create that finds
  // its match is answered below without being routed
  for (const p of planned) {
    try {
      authorizeFhirRequest(ctx, p.req);
    } catch (err) {
      if (err instanceof FhirError) throw locate(err, p.index, entries[p.index].resource);
      throw err;
    }
  }
  // each entry is audited as itself; if the transaction fails none of them happened, and the
  // request's one AuditEvent records the failure (audit/middleware.ts)
  const audit = ctx.origin.audit?.child();
  const responses = await ctx.store.transaction(async (store) => {
    const tx: InteractionContext = { ...ctx, store };
    const ids = await assignIds(tx, planned);
    const out: FhirResponse[] = new Array(planned.length);
    const ordered = [...planned].sort((a, b) => ORDER[a.req.method] - ORDER[b.req.method] || a.index - b.index);
    for (const p of ordered) {
      try {
        if (p.req.body && typeof p.req.body === 'object') p.req.body = await resolveReferences(tx, p.req.body, ids);
        const existing = ids.existing.get(p.index);
        const part = audit?.child();
        out[p.index] = existing ? { status: 200, headers: {}, body: existing } : await routeFhirRequest(withAudit(tx, part), p.req);
        if (audit && part) audit.settle(part, true, () => entryAuditEvent(tx, p.index, p.req, out[p.index].status, out[p.index].body));
      } catch (err) {
        if (err instanceof FhirError) throw locate(err, p.index, entries[p.index].resource);
        throw err;
      }
    }
    return out;
  });
  if (audit) ctx.origin.audit!.settle(audit, true);
  return { resourceType: 'Bundle', type: 'transaction-response', entry: responses.map(responseEntry) };
}

/** The context of one entry, whose writes and messages mark `part` of the request's audit. */
function withAudit(ctx: InteractionContext, part: AuditScope | undefined): InteractionContext {
  return part ? { ...ctx, origin: { ...ctx.origin, audit: part } } : ctx;
}

/** Ends a batch entry's audit: the entry's own AuditEvent unless what it did left one (IHE BALP: each entry is an interaction). */
function settleEntry(ctx: InteractionContext, part: AuditScope | undefined, i: number, req: FhirRequest | undefined, status: number, body?: Resource, error?: unknown): void {
  if (!part) return;
  ctx.origin.audit!.settle(part, status < 400, () => entryAuditEvent(ctx, i, req, status, body, error));
}

function entryAuditEvent(ctx: InteractionContext, i: number, req: FhirRequest | undefined, status: number, body?: Resource, error?: unknown): AuditEvent {
  return interactionAuditEvent(
    { method: req?.method ?? 'POST', path: req?.path ?? '', query: req?.query ?? [], status, body, error, entry: i },
    { requestor: ctx.origin.requestor ?? { name: 'rest client' }, baseUrl: ctx.baseUrl, requestId: ctx.origin.requestId, recorded: ctx.store.clock.now() },
  );
}

/**
 * Gives every created resource its id before anything is written, so entries can refer to each
 * other by fullUrl (urn:uuid:…) in any order. A conditional create that finds its match, or a
 * conditional update, points at the existing resource.
 */
async function assignIds(ctx: InteractionContext, planned: Planned[]): Promise<{ byFullUrl: Map<string, string>; existing: Map<number, Resource> }> {
  const byFullUrl = new Map<string, string>();
  const existing = new Map<number, Resource>();
  for (const p of planned) {
    const type = p.req.path.split('/')[0];
    if (p.req.method === 'POST' && !p.req.path.includes('/') && p.req.path !== '') {
      let id: string = randomUUID();
      if (p.req.headers.ifNoneExist) {
        const text = p.req.headers.ifNoneExist.replace(/^[^?]*\?/, '');
        await ctx.store.lock(`conditional:${type}?${text}`);
        const found = await ctx.store.matches(parseSearch(type, [...new URLSearchParams(text)], { strict: true }));
        if (found.length > 1) throw locate(new FhirError(FhirErrorCode.PRECONDITION_FAILED, `If-None-Exist '${text}' matched ${found.length} resources`), p.index);
        if (found.length === 1) {
          id = found[0].id!;
          existing.set(p.index, found[0]);
        }
      }
      p.req = { ...p.req, assignedId: id, headers: { ...p.req.headers, ifNoneExist: undefined } };
      if (p.fullUrl) byFullUrl.set(p.fullUrl, `${type}/${id}`);
    } else if (p.req.method === 'PUT' && !p.req.path.includes('/') && p.req.query.length) {
      const text = new URLSearchParams(p.req.query).toString();
      await ctx.store.lock(`conditional:${type}?${text}`);
      const found = await ctx.store.matches(parseSearch(type, p.req.query, { strict: true }));
      if (found.length > 1) throw locate(new FhirError(FhirErrorCode.PRECONDITION_FAILED, `Conditional update '${text}' matched ${found.length} resources`), p.index);
      const id = found[0]?.id ?? (p.req.body as Resource | undefined)?.id ?? randomUUID();
      p.req = { ...p.req, path: `${type}/${id}`, query: [], body: { ...(p.req.body as object), id } };
      if (p.fullUrl) byFullUrl.set(p.fullUrl, `${type}/${id}`);
    } else if (p.fullUrl && (p.req.method === 'PUT' || p.req.method === 'PATCH')) {
      byFullUrl.set(p.fullUrl, p.req.path);
    }
  }
  return { byFullUrl, existing };
}

/** Rewrites references to fullUrls and conditional references (Type?criteria) to Type/id. */
async function resolveReferences(ctx: InteractionContext, value: object, ids: { byFullUrl: Map<string, string> }): Promise<object> {
  const walk = async (v: unknown): Promise<unknown> => {
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v)) {
      if (k === 'reference' && typeof child === 'string') out[k] = await resolveOne(ctx, child, ids.byFullUrl);
      else out[k] = await walk(child);
    }
    return out;
  };
  return (await walk(value)) as object;
}

async function resolveOne(ctx: InteractionContext, ref: string, byFullUrl: Map<string, string>): Promise<string> {
  const mapped = byFullUrl.get(ref);
  if (mapped) return mapped;
  if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) throw badRequest(`Reference '${ref}' names no entry of this transaction`);
  const m = /^([A-Z][A-Za-z]+)\?(.+)$/.exec(ref);
  if (!m) return ref;
  // conditional reference (http://hl7.org/fhir/R4/http.html#trules): exactly one match, found by a search of that type
  requireAccess(ctx.principal, { anyOf: [[{ type: m[1], permission: 's' }]] }, `the conditional reference '${ref}'`);
  const found = await ctx.store.matches(parseSearch(m[1], [...new URLSearchParams(m[2])], { strict: true }));
  if (found.length !== 1) throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `Conditional reference '${ref}' matched ${found.length === 0 ? 'no' : 'several'} resources; it must match exactly one`);
  return `${m[1]}/${found[0].id}`;
}

function rejectDuplicates(planned: Planned[]): void {
  const seen = new Map<string, number>();
  for (const p of planned) {
    if (p.req.method === 'GET' || p.req.method === 'HEAD' || (p.req.method === 'POST' && !p.req.headers.ifNoneExist)) continue;
    const key = p.req.method === 'POST' ? `POST ${p.req.headers.ifNoneExist}` : `${p.req.path}?${new URLSearchParams(p.req.query)}`;
    const before = seen.get(key);
    if (before !== undefined) throw badRequest(`Entries ${before} and ${p.index} act on the same resource (${key}); a transaction may touch each resource once`, `Bundle.entry[${p.index}].request.url`);
    seen.set(key, p.index);
  }
}

function entryRequest(ctx: InteractionContext, entry: BundleEntry, i: number): FhirRequest {
  // the body is not validated yet: every part read here is checked for its JSON type first
  if (!isObject(entry)) throw badRequest('Each entry must be an object', `Bundle.entry[${i}]`);
  const at = `Bundle.entry[${i}].request`;
  if (!isObject(entry.request)) throw badRequest('Each entry needs a request', at);
  const r = entry.request!;
  if (typeof r.method !== 'string' || !METHODS.has(r.method)) throw badRequest(`Unsupported method '${String(r.method)}'`, `${at}.method`);
  if (typeof r.url !== 'string' || !r.url) throw badRequest('Each entry request needs a url', `${at}.url`);
  for (const header of ['ifMatch', 'ifNoneMatch', 'ifNoneExist', 'ifModifiedSince'] as const) {
    if (r[header] !== undefined && typeof r[header] !== 'string') throw badRequest(`request.${header} must be a string`, `${at}.${header}`);
  }
  if (entry.resource !== undefined && !isObject(entry.resource)) throw badRequest('An entry resource must be an object', `Bundle.entry[${i}].resource`);
  let url = r.url.startsWith(ctx.baseUrl + '/') ? r.url.slice(ctx.baseUrl.length + 1) : r.url;
  if (/^[a-z]+:/.test(url)) throw badRequest(`The url '${r.url}' is not on this server`, `${at}.url`);
  url = url.replace(/^\//, '');
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? [] : [...new URLSearchParams(url.slice(q + 1))];
  const needsBody = r.method === 'POST' || r.method === 'PUT';
  if (needsBody && !entry.resource) throw badRequest(`A ${r.method} entry needs a resource`, `Bundle.entry[${i}].resource`);
  let body: unknown = entry.resource;
  if (r.method === 'PATCH') body = binaryPatch(entry.resource, i);
  return {
    method: r.method as FhirRequest['method'],
    path,
    query,
    body,
    headers: { ifMatch: r.ifMatch, ifNoneMatch: r.ifNoneMatch, ifNoneExist: r.ifNoneExist, ifModifiedSince: r.ifModifiedSince },
  };
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** In a Bundle, a JSON Patch travels as a Binary (http://hl7.org/fhir/R4/http.html#patch). */
function binaryPatch(resource: Resource | undefined, i: number): unknown {
  if (resource?.resourceType !== 'Binary' || !resource.data) throw badRequest('A PATCH entry carries its JSON Patch as a Binary resource', `Bundle.entry[${i}].resource`);
  try {
    return JSON.parse(Buffer.from(resource.data, 'base64').toString('utf8'));
  } catch {
    throw badRequest('The Binary of a PATCH entry does not hold JSON', `Bundle.entry[${i}].resource.data`);
  }
}

function responseEntry(res: FhirResponse): BundleEntry {
  const response: BundleEntryResponse = { status: statusLine(res.status) };
  if (res.headers.Location) response.location = res.headers.Location;
  if (res.headers.ETag) response.etag = res.headers.ETag;
  const lastUpdated = res.body?.meta?.lastUpdated;
  if (lastUpdated && res.body?.resourceType !== 'Bundle') response.lastModified = lastUpdated;
  const entry: BundleEntry = { response };
  if (res.body?.resourceType === 'OperationOutcome' && res.status >= 400) response.outcome = res.body;
  else if (res.body) entry.resource = res.body;
  if (res.body && 'id' in res.body && res.body.id && res.body.resourceType !== 'OperationOutcome' && res.body.resourceType !== 'Bundle') {
    entry.fullUrl = response.location?.replace(/\/_history\/.*$/, '');
  }
  return entry;
}

function statusLine(status: number): string {
  return REASON[status] ? `${status} ${REASON[status]}` : String(status);
}

/** Points every issue of a failed entry at that entry: Bundle.entry[i].resource.… */
function locate(err: FhirError, i: number, resource?: Resource): FhirError {
  return relocate(err, (e) => {
    if (e.startsWith('Bundle.entry[')) return e;
    if (resource && e.startsWith(resource.resourceType + '.')) return `Bundle.entry[${i}].resource${e.slice(resource.resourceType.length)}`;
    return e ? `Bundle.entry[${i}].${e}` : `Bundle.entry[${i}]`;
  });
}

import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { badRequest } from '../../errors.js';
import { parseDateRange } from '../../fhir/search/date-range.js';
import { DEFAULT_COUNT, MAX_COUNT } from '../../fhir/search/query.js';
import type { HistoryEntry } from '../../store/history.js';
import type { FhirRequest } from '../fhir-request.js';
import { checkId, checkType, type Handler, type InteractionContext } from './context.js';

/** GET _history, [type]/_history, [type]/[id]/_history (http://hl7.org/fhir/R4/http.html#history). */
export const systemHistory: Handler = async (ctx, req) => history(ctx, req, '_history');

export const typeHistory: Handler = async (ctx, req, { type }) => {
  checkType(type);
  return history(ctx, req, `${type}/_history`, type);
};

export const instanceHistory: Handler = async (ctx, req, { type, id }) => {
  checkType(type);
  checkId(id);
  // the history of a resource never created is 404; a deleted one still has its history
  await ctx.store.read(type, id).catch((err: { status?: number }) => {
    if (err.status !== 410) throw err;
  });
  return history(ctx, req, `${type}/${id}/_history`, type, id);
};

async function history(ctx: InteractionContext, req: FhirRequest, path: string, type?: string, id?: string) {
  const params = new Map(req.query);
  const count = params.has('_count') ? Number(params.get('_count')) : DEFAULT_COUNT;
  if (!Number.isInteger(count) || count < 1) throw badRequest(`_count must be a positive integer, got '${params.get('_count')}'`, '_count');
  let since: Date | undefined;
  if (params.has('_since')) {
    const raw = params.get('_since')!;
    // _since is an instant (http://hl7.org/fhir/R4/http.html#history)
    const range = /T/.test(raw) ? parseDateRange(raw) : undefined;
    if (!range) throw badRequest(`_since must be an instant such as 2026-01-01T00:00:00Z, got '${raw}'`, '_since');
    since = range.lo;
  }
  const cursor = params.get('_cursor');
  const page = await ctx.store.history({ type, id, since, count: Math.min(count, MAX_COUNT), cursor });
  const base = [...(since ? [['_since', params.get('_since')!]] : []), ['_count', String(Math.min(count, MAX_COUNT))]] as [string, string][];
  const url = (extra: [string, string][]) => `${ctx.baseUrl}/${path}?${new URLSearchParams([...base, ...extra])}`;
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    link: [{ relation: 'self', url: url(cursor ? [['_cursor', cursor]] : []) }, ...(page.next ? [{ relation: 'next', url: url([['_cursor', page.next]]) }] : [])],
  };
  // an empty history has no entry element: FHIR arrays are never empty, and the XML writer refuses one
  if (page.entries.length) bundle.entry = page.entries.map((e) => historyEntry(ctx.baseUrl, e));
  if (page.total !== undefined) bundle.total = page.total;
  return { status: 200, headers: {}, body: bundle };
}

function historyEntry(baseUrl: string, e: HistoryEntry): BundleEntry {
  const method = e.method === 'PATCH' ? 'PATCH' : (e.method as 'POST' | 'PUT' | 'DELETE');
  return {
    fullUrl: `${baseUrl}/${e.type}/${e.id}`,
    resource: e.resource,
    request: { method, url: method === 'POST' ? e.type : `${e.type}/${e.id}` },
    response: {
      status: e.deleted ? '204' : e.versionId === 1 || method === 'POST' ? '201' : '200',
      etag: `W/"${e.versionId}"`,
      lastModified: e.lastUpdated.toISOString(),
    },
  };
}

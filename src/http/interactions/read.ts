import { subsetResource, type SummaryMode } from '../../fhir/subset.js';
import { versionHeaders, parseVersionTag } from '../etag.js';
import type { FhirRequest } from '../fhir-request.js';
import { checkId, checkType, type Handler } from './context.js';

/** GET [type]/[id] (http://hl7.org/fhir/R4/http.html#read), with If-None-Match / If-Modified-Since. */
export const readResource: Handler = async (ctx, req, { type, id }) => {
  checkType(type);
  checkId(id);
  const resource = await ctx.store.read(type, id);
  const headers = versionHeaders(resource, ctx.baseUrl);
  const ifNoneMatch = parseVersionTag(req.headers.ifNoneMatch, 'If-None-Match');
  if (ifNoneMatch && 'version' in ifNoneMatch && String(ifNoneMatch.version) === resource.meta?.versionId) return { status: 304, headers };
  if (req.headers.ifModifiedSince) {
    const since = Date.parse(req.headers.ifModifiedSince);
    const modified = Math.floor(Date.parse(resource.meta!.lastUpdated!) / 1000) * 1000;
    if (!Number.isNaN(since) && modified <= since) return { status: 304, headers };
  }
  return { status: 200, headers, body: subsetted(req, resource) };
};

/** GET [type]/[id]/_history/[vid] (http://hl7.org/fhir/R4/http.html#vread). */
export const vreadResource: Handler = async (ctx, req, { type, id, vid }) => {
  checkType(type);
  checkId(id);
  const resource = await ctx.store.vread(type, id, vid);
  return { status: 200, headers: versionHeaders(resource, ctx.baseUrl), body: subsetted(req, resource) };
};

function subsetted(req: FhirRequest, resource: import('@medplum/fhirtypes').Resource) {
  const summary = req.query.find(([k]) => k === '_summary')?.[1] as SummaryMode | undefined;
  const elements = req.query.find(([k]) => k === '_elements')?.[1]?.split(',');
  return subsetResource(resource, summary, elements);
}

import type { Bundle, BundleEntry, BundleLink, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { parseSearch } from '../../fhir/search/parse.js';
import type { IgnoredParameter, SearchQuery } from '../../fhir/search/query.js';
import { subsetResource } from '../../fhir/subset.js';
import { requireSearchAccess } from '../../security/search-access.js';
import { parsePrefer } from '../prefer.js';
import { checkType, type Handler, type InteractionContext } from './context.js';

/** GET [type]?… and POST [type]/_search (http://hl7.org/fhir/R4/http.html#search). */
export const searchType: Handler = async (ctx, req, { type }) => {
  checkType(type);
  const strict = parsePrefer(req.headers.prefer).handling === 'strict';
  const query = parseSearch(type, req.query, { strict });
  return { status: 200, headers: {}, body: await searchBundle(ctx, query) };
};

export async function searchBundle(ctx: InteractionContext, query: SearchQuery): Promise<Bundle> {
  requireSearchAccess(ctx.principal, query);
  const page = await ctx.store.search(query);
  const url = (extra: [string, string][] = []) => {
    const qs = new URLSearchParams([...query.applied.filter(([k]) => k !== '_count'), ['_count', String(query.count)], ...extra]).toString();
    return `${ctx.baseUrl}/${query.resourceType}?${qs}`;
  };
  const link: BundleLink[] = [{ relation: 'self', url: url(query.cursor ? [['_cursor', query.cursor]] : []) }];
  if (page.next) link.push({ relation: 'next', url: url([['_cursor', page.next]]) });
  if (page.previous) link.push({ relation: 'previous', url: url([['_cursor', page.previous]]) });
  const entry = (resource: Resource, mode: 'match' | 'include'): BundleEntry => ({
    fullUrl: `${ctx.baseUrl}/${resource.resourceType}/${resource.id}`,
    resource: subsetResource(resource, query.summary === 'count' ? undefined : query.summary, query.elements),
    search: { mode },
  });
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', link };
  if (page.total !== undefined) bundle.total = page.total;
  const entries = [...page.matches.map((r) => entry(r, 'match')), ...page.included.map((r) => entry(r, 'include'))];
  if (query.ignored.length) entries.push({ resource: ignoredOutcome(query.ignored), search: { mode: 'outcome' } });
  if (entries.length) bundle.entry = entries;
  return bundle;
}

/**
 * Lenient handling ignores an unknown or unsupported parameter: it is left out of the self link and
 * named in an OperationOutcome entry (search mode `outcome`), so the client can see it was not
 * applied (http://hl7.org/fhir/R4/search.html#errors).
 */
function ignoredOutcome(ignored: IgnoredParameter[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: ignored.map(({ parameter, reason }) => ({
      severity: 'warning',
      code: 'not-supported',
      diagnostics: `${reason}; the parameter was ignored`,
      expression: [parameter],
    })),
  };
}

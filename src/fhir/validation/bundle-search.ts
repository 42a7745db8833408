import type { ValidationContext, ValueCheck } from './context.js';

/**
 * Bundle links and search results (http://hl7.org/fhir/R4/bundle.html#searchset,
 * http.html#paging), with the HL7 validator's severities and messages:
 * - a link relation (Bundle.link, each entry's link) occurs once: `self`, `next`… each name one URL;
 * - a searchset says what the search was (a `self` link) and how each entry came in (search.mode);
 *   a `match` is of a type the search asked for, a `match` or `include` has an id (the client reads
 *   it from the server by it), and an `outcome` is an OperationOutcome.
 */

const RESOURCE_TYPE = /^[A-Z][A-Za-z]+$/;

type Link = { relation?: unknown } | null;
type Entry = { link?: unknown; resource?: { resourceType?: unknown; id?: unknown } | null; search?: { mode?: unknown } | null } | null;

export const bundleLinkRule: ValueCheck = (value, path, ctx) => {
  const bundle = value as { link?: unknown; entry?: unknown };
  uniqueRelations(bundle.link, `${path}.link`, ctx);
  if (Array.isArray(bundle.entry)) bundle.entry.forEach((e: Entry, i) => uniqueRelations(e?.link, `${path}.entry[${i}].link`, ctx));
};

function uniqueRelations(links: unknown, path: string, ctx: ValidationContext): void {
  if (!Array.isArray(links)) return;
  const seen = new Set<string>();
  links.forEach((link: Link, i) => {
    const relation = link?.relation;
    if (typeof relation !== 'string') return;
    if (seen.has(relation)) ctx.issues.error('value', `${path}[${i}]`, `The link relationship type '${relation}' can only occur once`);
    seen.add(relation);
  });
}

export const bundleSearchSetRule: ValueCheck = (value, path, ctx) => {
  const bundle = value as { type?: unknown; link?: unknown; entry?: unknown };
  if (bundle.type !== 'searchset') return;
  const self = Array.isArray(bundle.link) ? (bundle.link as Array<{ relation?: unknown; url?: unknown } | null>).find((l) => l?.relation === 'self') : undefined;
  if (typeof self?.url !== 'string') ctx.issues.warning('value', path, 'SearchSet Bundles should have a self link that specifies what the search was');
  const types = typeof self?.url === 'string' ? searchedTypes(self.url) : [];
  const entries = Array.isArray(bundle.entry) ? (bundle.entry as Entry[]) : [];
  if (entries.length > 0 && !entries.some((e) => e?.search?.mode !== undefined)) {
    ctx.issues.warning('value', path, 'SearchSet bundles should have search modes on the entries');
    return;
  }
  entries.forEach((entry, i) => {
    const mode = entry?.search?.mode;
    const resource = entry?.resource;
    if (typeof mode !== 'string' || resource === null || typeof resource !== 'object' || typeof resource.resourceType !== 'string') return;
    const where = `${path}.entry[${i}].resource`;
    if (mode === 'outcome') {
      if (resource.resourceType !== 'OperationOutcome') ctx.issues.error('value', where, `This is not an OperationOutcome (${resource.resourceType})`);
      return;
    }
    if (resource.id === undefined) ctx.issues.error('required', where, 'Search results must have ids');
    if (mode === 'match' && types.length > 0 && !types.includes(resource.resourceType)) {
      ctx.issues.error('value', where, `This is not a matching resource type for the specified search (${resource.resourceType} expecting [${types.join(', ')}])`);
    }
  });
};

/**
 * The resource types a search URL asks for: the type in its path (`[base]/Patient?…`) or the
 * `_type` parameter of a search across types (`[base]?_type=Observation,DocumentReference`).
 * None when the URL does not say.
 */
export function searchedTypes(url: string): string[] {
  const query = url.indexOf('?');
  const segments = (query < 0 ? url : url.slice(0, query)).split('/').filter(Boolean);
  if (segments[segments.length - 1] === '_search') segments.pop();
  const last = segments[segments.length - 1] ?? '';
  const types = RESOURCE_TYPE.test(last) ? [last] : [];
  if (query >= 0) {
    for (const pair of url.slice(query + 1).split('&')) {
      const [name, raw] = pair.split('=');
      if (name === '_type' && raw) types.push(...decodeURIComponent(raw).split(',').filter((t) => RESOURCE_TYPE.test(t)));
    }
  }
  return types;
}

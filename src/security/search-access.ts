import type { Filter, IncludeSpec, SearchQuery } from '../fhir/search/query.js';
import { requireAccess, type Access } from './access.js';
import type { Principal } from './principal.js';

/**
 * A search reaches beyond its own type: chained parameters and `_has` search other types, and
 * `_include` / `_revinclude` return them. Each needs its own scope (SMART v2: `s` to search a
 * type, `r` to be given its resources), checked on the parsed query before anything is read,
 * not by leaving resources out of the answer afterwards.
 */
export function requireSearchAccess(principal: Principal, query: SearchQuery): void {
  const needs: Access[] = [{ type: query.resourceType, permission: 's' }];
  for (const filter of query.filters) needs.push(...filterNeeds(filter));
  for (const include of query.include) needs.push(...includedTypes(include).map((type) => ({ type, permission: 'r' as const })));
  for (const include of query.revinclude) needs.push({ type: include.sourceType, permission: 'r' });
  requireAccess(principal, { anyOf: [dedupe(needs)] }, `this search of ${query.resourceType}`);
}

function filterNeeds(filter: Filter): Access[] {
  if (filter.kind === 'chain') return filter.targets.flatMap((t) => [{ type: t.type, permission: 's' as const }, ...filterNeeds(t.filter)]);
  if (filter.kind === 'has') return [{ type: filter.sourceType, permission: 's' }, ...filterNeeds(filter.filter)];
  return [];
}

/**
 * The types an `_include` may return: the one named (`Task:owner:Organization`), else every target
 * of its parameter, so a client scoped to some of them names the one it wants; `*` for `_include=*`.
 */
function includedTypes(include: IncludeSpec): string[] {
  if (include.targetType) return [include.targetType];
  if (include.param) return include.param.targets.length ? include.param.targets : ['*'];
  return ['*'];
}

function dedupe(accesses: Access[]): Access[] {
  const seen = new Map(accesses.map((a) => [`${a.type}.${a.permission}`, a]));
  return [...seen.values()];
}

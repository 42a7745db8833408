import type { Resource } from '@medplum/fhirtypes';
import type { IncludeSpec, SearchQuery, SortKey } from '../fhir/search/query.js';
import type { Queryable } from './database.js';
import { decodeCursor, encodeCursor, keysetCondition, type KeyExpr } from './keyset.js';
import { filterSql } from './search-filters.js';
import { SqlParams } from './sql.js';

export interface SearchPage {
  matches: Resource[];
  included: Resource[];
  total?: number;
  /** Cursors for the next and previous pages, when there are such pages. */
  next?: string;
  previous?: string;
}

interface Row {
  rid: string;
  content: string;
  [key: `k${number}`]: string | null;
}

const MAX_INCLUDED = 1000;
const MAX_ITERATE_DEPTH = 4;

/**
 * Runs a search: matching resources in keyset pages (stable while resources are added), the
 * total when asked, then _include/_revinclude targets of the page.
 */
export async function runSearch(q: Queryable, query: SearchQuery): Promise<SearchPage> {
  const p = new SqlParams();
  const where = [`a.type = ${p.add(query.resourceType)}`, 'NOT a.deleted', ...query.filters.map((f) => filterSql(f, 'a', p))];
  const page: SearchPage = { matches: [], included: [] };

  const countOnly = query.summary === 'count' || query.count === 0;
  if (query.total !== 'none' || countOnly) {
    const rows = await q.query<{ n: string | number }>(`SELECT count(*) AS n FROM resource a WHERE ${where.join(' AND ')}`, p.values);
    page.total = Number(rows[0].n);
  }
  if (countOnly) return page;

  const keys = sortKeys(query.sort, p);
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  const backwards = cursor?.dir === 'before';
  // going back: walk the order reversed from the cursor, then flip the rows
  const order = keys.map((k) => ({ ...k, descending: k.descending !== backwards }));
  const pageWhere = [...where];
  if (cursor) pageWhere.push(keysetCondition(order, cursor.keys, cursor.rid, (v, c) => p.add(v, c), 'a.rid', backwards));
  const select = keys.map((k, i) => `(${k.sql})::text AS k${i}`);
  const sql = `SELECT a.rid::text AS rid, a.content${select.map((s) => ', ' + s).join('')} FROM resource a
    WHERE ${pageWhere.join(' AND ')}
    ORDER BY ${[...order.map((k) => `${k.sql} ${k.descending ? 'DESC' : 'ASC'}`), `a.rid ${backwards ? 'DESC' : 'ASC'}`].join(', ')}
    LIMIT ${query.count + 1}`;
  const rows = await q.query<Row>(sql, p.values);
  const more = rows.length > query.count;
  const pageRows = rows.slice(0, query.count);
  if (backwards) pageRows.reverse();
  const keysOf = (r: Row) => keys.map((_, i) => r[`k${i}`] ?? null);
  const first = pageRows[0];
  const last = pageRows[pageRows.length - 1];
  if (last && (backwards || more)) page.next = encodeCursor({ dir: 'after', keys: keysOf(last), rid: last.rid });
  if (first && cursor && (!backwards || more)) page.previous = encodeCursor({ dir: 'before', keys: keysOf(first), rid: first.rid });

  page.matches = pageRows.map((r) => JSON.parse(r.content) as Resource);
  if (query.include.length || query.revinclude.length) page.included = await includes(q, query, pageRows.map((r) => r.rid), page.matches);
  return page;
}

/** SQL sort expressions: columns for _id/_lastUpdated, else the least (or greatest) indexed value. */
function sortKeys(sort: SortKey[], p: SqlParams): KeyExpr[] {
  return sort.map((s) => {
    if (s.code === '_id') return { sql: 'a.id', cast: 'text', descending: s.descending };
    if (s.code === '_lastUpdated') return { sql: 'a.last_updated', cast: 'timestamptz', descending: s.descending };
    const agg = s.descending ? 'max' : 'min';
    const param = p.add(s.code);
    switch (s.param!.kind) {
      case 'string':
        return { sql: `(SELECT ${agg}(x.value_norm) FROM sp_string x WHERE x.rid = a.rid AND x.param = ${param})`, cast: 'text', descending: s.descending };
      case 'token':
        return { sql: `(SELECT ${agg}(x.code) FROM sp_token x WHERE x.rid = a.rid AND x.param = ${param})`, cast: 'text', descending: s.descending };
      case 'date':
        // ascending by earliest start, descending by latest end (R4 search.html#_sort)
        return { sql: `(SELECT ${agg}(x.${s.descending ? 'hi' : 'lo'}) FROM sp_date x WHERE x.rid = a.rid AND x.param = ${param})`, cast: 'timestamptz', descending: s.descending };
      case 'number':
        return { sql: `(SELECT ${agg}(x.value) FROM sp_number x WHERE x.rid = a.rid AND x.param = ${param})`, cast: 'numeric', descending: s.descending };
      case 'uri':
        return { sql: `(SELECT ${agg}(x.value) FROM sp_uri x WHERE x.rid = a.rid AND x.param = ${param})`, cast: 'text', descending: s.descending };
      default:
        return { sql: `(SELECT ${agg}(coalesce(x.target_type || '/' || x.target_id, x.target_url)) FROM sp_reference x WHERE x.rid = a.rid AND x.param = ${param})`, cast: 'text', descending: s.descending };
    }
  });
}

async function includes(q: Queryable, query: SearchQuery, matchRids: string[], matches: Resource[]): Promise<Resource[]> {
  const seen = new Set(matches.map((r) => `${r.resourceType}/${r.id}`));
  const out: Resource[] = [];
  let frontier = { rids: matchRids, refs: [...seen] };
  for (let depth = 0; depth < MAX_ITERATE_DEPTH && frontier.rids.length && out.length < MAX_INCLUDED; depth++) {
    const specsInc = query.include.filter((s) => depth === 0 || s.iterate);
    const specsRev = query.revinclude.filter((s) => depth === 0 || s.iterate);
    if (!specsInc.length && !specsRev.length) break;
    const found: { rid: string; content: string }[] = [];
    for (const spec of specsInc) found.push(...(await includeTargets(q, spec, frontier.rids)));
    for (const spec of specsRev) found.push(...(await revincludeSources(q, spec, frontier.refs)));
    const next = { rids: [] as string[], refs: [] as string[] };
    for (const row of found) {
      const r = JSON.parse(row.content) as Resource;
      const ref = `${r.resourceType}/${r.id}`;
      if (seen.has(ref) || out.length >= MAX_INCLUDED) continue;
      seen.add(ref);
      out.push(r);
      next.rids.push(row.rid);
      next.refs.push(ref);
    }
    frontier = next;
  }
  return out;
}

async function includeTargets(q: Queryable, spec: IncludeSpec, rids: string[]): Promise<{ rid: string; content: string }[]> {
  const p = new SqlParams();
  const conds = [`ref.rid = ANY(${p.add(rids, 'bigint[]')})`, 'NOT t.deleted'];
  if (spec.sourceType !== '*') conds.push(`ref.type = ${p.add(spec.sourceType)}`);
  if (spec.param) conds.push(`ref.param = ${p.add(spec.param.code)}`);
  if (spec.targetType) conds.push(`t.type = ${p.add(spec.targetType)}`);
  return q.query(`SELECT DISTINCT t.rid::text AS rid, t.content FROM sp_reference ref JOIN resource t ON t.type = ref.target_type AND t.id = ref.target_id WHERE ${conds.join(' AND ')} LIMIT ${MAX_INCLUDED}`, p.values);
}

async function revincludeSources(q: Queryable, spec: IncludeSpec, refs: string[]): Promise<{ rid: string; content: string }[]> {
  const p = new SqlParams();
  const ids = refs.map((r) => r.slice(r.indexOf('/') + 1));
  const conds = [`ref.target_id = ANY(${p.add(ids, 'text[]')})`, `(ref.target_type || '/' || ref.target_id) = ANY(${p.add(refs, 'text[]')})`, 'NOT s.deleted'];
  if (spec.sourceType !== '*') conds.push(`ref.type = ${p.add(spec.sourceType)}`);
  if (spec.param) conds.push(`ref.param = ${p.add(spec.param.code)}`);
  if (spec.targetType) conds.push(`ref.target_type = ${p.add(spec.targetType)}`);
  return q.query(`SELECT DISTINCT s.rid::text AS rid, s.content FROM sp_reference ref JOIN resource s ON s.rid = ref.rid WHERE ${conds.join(' AND ')} LIMIT ${MAX_INCLUDED}`, p.values);
}

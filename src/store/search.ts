import type { Resource } from '@medplum/fhirtypes';
import type { Filter, IncludeSpec, SearchQuery, SortKey } from '../fhir/search/query.js';
import type { Queryable } from './database.js';
import { decodeCursor, encodeCursor, fitCursor, keysetCondition, withCursor, type Cursor, type KeyExpr } from './keyset.js';
import type { Compartment } from './compartment.js';
import { filterSql } from './search-filters.js';
import { SqlParams } from './sql.js';
import { parseStored } from './stored-json.js';
import { queueWalkFor, queueWalkSql } from './task-queue.js';

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
 * total when asked, then _include/_revinclude targets of the page. With a compartment, every
 * row read (matches, chained targets, `_has` sources, included resources, the count) is one the
 * compartment sees: the condition is in each query, never applied to results afterwards.
 */
export async function runSearch(q: Queryable, query: SearchQuery, compartment?: Compartment): Promise<SearchPage> {
  const p = new SqlParams();
  const driver = queueDriver(query);
  const filters = driver ? query.filters.filter((f) => f !== driver.filter) : query.filters;
  const where = [`a.type = ${p.add(query.resourceType)}`, 'NOT a.deleted', ...filters.map((f) => filterSql(f, 'a', p, compartment))];
  if (compartment) where.push(compartment.visible('a', p, query.resourceType));
  const from = driver ? `resource a JOIN sp_reference d ON d.rid = a.rid AND ${driver.join(p)}` : 'resource a';
  const page: SearchPage = { matches: [], included: [] };

  const countOnly = query.summary === 'count' || query.count === 0;
  if (query.total === 'accurate' || query.total === 'estimate' || countOnly) {
    const rows = await q.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${from} WHERE ${where.join(' AND ')}`, p.values);
    page.total = Number(rows[0].n);
  }
  if (countOnly) return page;

  const keys = sortKeys(query.sort, p, driver ? 'd.last_updated' : 'a.last_updated');
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  const backwards = cursor?.dir === 'before';
  const rows = await withCursor(cursor, () => pageRowsOf(q, query, cursor, keys.length, () => pageSql(query, keys, from, where, cursor, p), p, compartment));
  const more = rows.length > query.count;
  const pageRows = rows.slice(0, query.count);
  if (backwards) pageRows.reverse();
  const keysOf = (r: Row) => keys.map((_, i) => r[`k${i}`] ?? null);
  const first = pageRows[0];
  const last = pageRows[pageRows.length - 1];
  if (last && (backwards || more)) page.next = encodeCursor({ dir: 'after', keys: keysOf(last), rid: last.rid });
  if (first && cursor && (!backwards || more)) page.previous = encodeCursor({ dir: 'before', keys: keysOf(first), rid: first.rid });
  // every match is on this first page: the total is known without counting
  if (page.total === undefined && query.total === undefined && !cursor && !more) page.total = pageRows.length;

  page.matches = pageRows.map((r) => parseStored(r.content));
  if (query.include.length || query.revinclude.length) page.included = await includes(q, query, pageRows.map((r) => r.rid), page.matches, compartment);
  return page;
}

/** The rows of the page: walked from task_queue for a work queue (task-queue.ts), else the generic page. */
async function pageRowsOf(q: Queryable, query: SearchQuery, cursor: Cursor | undefined, keyCount: number, generic: () => string, p: SqlParams, compartment?: Compartment): Promise<Row[]> {
  const walk = queueWalkFor(query);
  // a queue walk's cursor holds the rank and the due date (task-queue.ts), the generic one a value per sort key
  if (cursor) fitCursor(cursor, walk ? 2 : keyCount);
  if (!walk) return q.query<Row>(generic(), p.values);
  // its own parameters: PostgreSQL refuses a statement with a parameter it does not use
  const wp = new SqlParams();
  const others = query.filters.filter((f) => !walk.served.has(f)).map((f) => filterSql(f, 'a', wp, compartment));
  if (compartment) others.push(compartment.visible('a', wp, query.resourceType));
  return q.query<Row>(queueWalkSql(walk, others, cursor, query.count + 1, wp), wp.values);
}

/** The generic page: the order's keys computed per row, the page picked from index data alone. */
function pageSql(query: SearchQuery, keys: KeyExpr[], from: string, where: string[], cursor: Cursor | undefined, p: SqlParams): string {
  const backwards = cursor?.dir === 'before';
  // going back: walk the order reversed from the cursor, then flip the rows
  const order = keys.map((k) => ({ ...k, descending: k.descending !== backwards }));
  const pageWhere = [...where];
  if (cursor) pageWhere.push(keysetCondition(order, cursor.keys, cursor.rid, (v, c) => p.add(v, c), 'a.rid', backwards));
  const dir = (d: boolean) => (d ? 'DESC' : 'ASC');
  const orderBy = [...order.map((k) => `${k.sql} ${dir(k.descending)}`), `a.rid ${dir(backwards)}`];
  const pageOrder = [...order.map((k, i) => `page.s${i} ${dir(k.descending)}`), `page.rid ${dir(backwards)}`];
  // the page is chosen from index data alone; only its rows' JSON is read (late materialization)
  return `SELECT page.rid::text AS rid, c.content${keys.map((_, i) => `, page.s${i}::text AS k${i}`).join('')} FROM (
      SELECT a.rid${keys.map((k, i) => `, ${k.sql} AS s${i}`).join('')} FROM ${from}
      WHERE ${pageWhere.join(' AND ')}
      ORDER BY ${orderBy.join(', ')}
      LIMIT ${query.count + 1}
    ) page JOIN resource c ON c.rid = page.rid
    ORDER BY ${pageOrder.join(', ')}`;
}

/**
 * A triage queue asks "owner = X, newest first". When the first sort key is _lastUpdated and a
 * criterion names exactly one reference target, the rows are read in order from that criterion's
 * index (sp_reference holds last_updated), so the first page costs a few index probes however
 * long the queue is.
 */
function queueDriver(query: SearchQuery): { filter: Filter; join: (p: SqlParams) => string } | undefined {
  if (query.sort[0]?.code !== '_lastUpdated') return undefined;
  for (const f of query.filters) {
    if (f.kind !== 'param' || f.param.kind !== 'reference' || f.modifier || f.values.length !== 1) continue;
    const v = f.values[0];
    if (v.kind !== 'reference' || !v.id || v.url) continue;
    if (f.param.details.array) continue; // several targets per resource could repeat a row
    return {
      filter: f,
      join: (p) => `d.type = ${p.add(query.resourceType)} AND d.param = ${p.add(f.param.code)} AND d.target_id = ${p.add(v.id)}${v.type ? ` AND d.target_type = ${p.add(v.type)}` : ''}`,
    };
  }
  return undefined;
}

/** SQL sort expressions: columns for _id/_lastUpdated, else the least (or greatest) indexed value. */
function sortKeys(sort: SortKey[], p: SqlParams, lastUpdated: string): KeyExpr[] {
  return sort.map((s) => {
    if (s.code === '_id') return { sql: 'a.id', cast: 'text', descending: s.descending };
    if (s.code === '_lastUpdated') return { sql: lastUpdated, cast: 'timestamptz', descending: s.descending };
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

async function includes(q: Queryable, query: SearchQuery, matchRids: string[], matches: Resource[], compartment?: Compartment): Promise<Resource[]> {
  const seen = new Set(matches.map((r) => `${r.resourceType}/${r.id}`));
  const out: Resource[] = [];
  let frontier = { rids: matchRids, refs: [...seen] };
  for (let depth = 0; depth < MAX_ITERATE_DEPTH && frontier.rids.length && out.length < MAX_INCLUDED; depth++) {
    const specsInc = query.include.filter((s) => depth === 0 || s.iterate);
    const specsRev = query.revinclude.filter((s) => depth === 0 || s.iterate);
    if (!specsInc.length && !specsRev.length) break;
    const found: { rid: string; content: string }[] = [];
    for (const spec of specsInc) found.push(...(await includeTargets(q, spec, frontier.rids, compartment)));
    for (const spec of specsRev) found.push(...(await revincludeSources(q, spec, frontier.refs, compartment)));
    const next = { rids: [] as string[], refs: [] as string[] };
    for (const row of found) {
      const r = parseStored(row.content);
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

async function includeTargets(q: Queryable, spec: IncludeSpec, rids: string[], compartment?: Compartment): Promise<{ rid: string; content: string }[]> {
  const p = new SqlParams();
  const conds = [`ref.rid = ANY(${p.add(rids, 'bigint[]')})`, 'NOT t.deleted'];
  if (compartment) conds.push(compartment.visible('t', p, spec.targetType));
  if (spec.sourceType !== '*') conds.push(`ref.type = ${p.add(spec.sourceType)}`);
  if (spec.param) conds.push(`ref.param = ${p.add(spec.param.code)}`);
  if (spec.targetType) conds.push(`t.type = ${p.add(spec.targetType)}`);
  return q.query(`SELECT DISTINCT t.rid::text AS rid, t.content FROM sp_reference ref JOIN resource t ON t.type = ref.target_type AND t.id = ref.target_id WHERE ${conds.join(' AND ')} LIMIT ${MAX_INCLUDED}`, p.values);
}

async function revincludeSources(q: Queryable, spec: IncludeSpec, refs: string[], compartment?: Compartment): Promise<{ rid: string; content: string }[]> {
  const p = new SqlParams();
  const ids = refs.map((r) => r.slice(r.indexOf('/') + 1));
  const conds = [`ref.target_id = ANY(${p.add(ids, 'text[]')})`, `(ref.target_type || '/' || ref.target_id) = ANY(${p.add(refs, 'text[]')})`, 'NOT s.deleted'];
  if (compartment) conds.push(compartment.visible('s', p, spec.sourceType === '*' ? undefined : spec.sourceType));
  if (spec.sourceType !== '*') conds.push(`ref.type = ${p.add(spec.sourceType)}`);
  if (spec.param) conds.push(`ref.param = ${p.add(spec.param.code)}`);
  if (spec.targetType) conds.push(`ref.target_type = ${p.add(spec.targetType)}`);
  return q.query(`SELECT DISTINCT s.rid::text AS rid, s.content FROM sp_reference ref JOIN resource s ON s.rid = ref.rid WHERE ${conds.join(' AND ')} LIMIT ${MAX_INCLUDED}`, p.values);
}

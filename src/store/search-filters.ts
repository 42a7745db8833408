import { normalizeString } from '../fhir/search/normalize.js';
import type { Filter, FilterValue, Prefix } from '../fhir/search/query.js';
import type { DateRange } from '../fhir/search/date-range.js';
import type { Compartment } from './compartment.js';
import { likeEscape, type SqlParams } from './sql.js';

const TABLE = { token: 'sp_token', string: 'sp_string', date: 'sp_date', reference: 'sp_reference', number: 'sp_number', uri: 'sp_uri' } as const;

let aliasSeq = 0;
const nextAlias = (p: string) => `${p}${++aliasSeq % 100000}`;

/**
 * Turns one search criterion into a SQL condition on the resource row aliased `a`. Index tables
 * are reached through `a.rid IN (…)` sub-selects that start from their (type, param, value)
 * index, so no search reads resource JSON.
 */
export function filterSql(f: Filter, a: string, p: SqlParams, compartment?: Compartment): string {
  // a chain or _has matches only through resources the compartment sees: what it cannot see
  // must not decide what is found (a search by another team's patient's name finds nothing)
  const seen = (alias: string, type?: string) => (compartment ? ` AND ${compartment.visible(alias, p, type)}` : '');
  switch (f.kind) {
    case 'chain': {
      const ref = nextAlias('ref');
      const t = nextAlias('t');
      const per = f.targets.map((target) => `(${t}.type = ${p.add(target.type)} AND ${filterSql(target.filter, t, p, compartment)}${seen(t, target.type)})`);
      return `${a}.rid IN (SELECT ${ref}.rid FROM sp_reference ${ref} JOIN resource ${t} ON ${t}.type = ${ref}.target_type AND ${t}.id = ${ref}.target_id
        WHERE ${ref}.type = ${p.add(f.resourceType)} AND ${ref}.param = ${p.add(f.param.code)} AND NOT ${t}.deleted AND (${per.join(' OR ')}))`;
    }
    case 'has': {
      const ref = nextAlias('ref');
      const s = nextAlias('s');
      return `EXISTS (SELECT 1 FROM sp_reference ${ref} JOIN resource ${s} ON ${s}.rid = ${ref}.rid
        WHERE ${ref}.type = ${p.add(f.sourceType)} AND ${ref}.param = ${p.add(f.param.code)}
          AND ${ref}.target_type = ${a}.type AND ${ref}.target_id = ${a}.id AND NOT ${s}.deleted AND ${filterSql(f.filter, s, p, compartment)}${seen(s, f.sourceType)})`;
    }
    case 'param':
      return paramSql(f, a, p);
  }
}

function paramSql(f: Extract<Filter, { kind: 'param' }>, a: string, p: SqlParams): string {
  const code = f.param.code;
  if (code === '_id') return `${a}.id = ANY(${p.add(f.values.map((v) => (v.kind === 'token' ? v.code : '')), 'text[]')})`;
  if (code === '_lastUpdated') {
    return or(f.values.map((v) => (v.kind === 'date' ? dateSql(v.prefix, v.range, `${a}.last_updated`, `${a}.last_updated`, p) : 'false')));
  }
  const kind = f.param.kind!;
  const table = TABLE[kind];
  const first = f.values[0];
  if (first?.kind === 'missing') {
    const x = nextAlias('x');
    const exists = `EXISTS (SELECT 1 FROM ${table} ${x} WHERE ${x}.rid = ${a}.rid AND ${x}.param = ${p.add(code)})`;
    return first.missing ? `NOT ${exists}` : exists;
  }
  const x = nextAlias('x');
  const conds = or(f.values.map((v) => valueSql(v, f.modifier, x, p)));
  const sub = `SELECT ${x}.rid FROM ${table} ${x} WHERE ${x}.type = ${p.add(f.resourceType)} AND ${x}.param = ${p.add(code)} AND ${conds}`;
  // :not matches resources with no matching value, including those with no value at all (R4 search.html#token)
  return f.modifier === 'not' ? `${a}.rid NOT IN (${sub})` : `${a}.rid IN (${sub})`;
}

function valueSql(v: FilterValue, modifier: string | undefined, x: string, p: SqlParams): string {
  switch (v.kind) {
    case 'token': {
      const parts: string[] = [];
      if (v.code !== undefined) parts.push(`${x}.code = ${p.add(v.code)}`);
      if (v.system === null) parts.push(`${x}.system IS NULL`);
      else if (v.system !== undefined) parts.push(`${x}.system = ${p.add(v.system)}`);
      return parts.length ? `(${parts.join(' AND ')})` : 'true';
    }
    case 'string': {
      if (modifier === 'text') return `${x}.text_norm LIKE ${p.add(likeEscape(normalizeString(v.value)) + '%')}`;
      if (modifier === 'exact') return `${x}.value = ${p.add(v.value)}`;
      if (modifier === 'contains') return `${x}.value_norm LIKE ${p.add('%' + likeEscape(normalizeString(v.value)) + '%')}`;
      return `${x}.value_norm LIKE ${p.add(likeEscape(normalizeString(v.value)) + '%')}`;
    }
    case 'date':
      return dateSql(v.prefix, v.range, `${x}.lo`, `${x}.hi`, p);
    case 'reference': {
      if (v.url) return `${x}.target_url = ${p.add(v.url)}`;
      const byId = `${x}.target_id = ${p.add(v.id)}`;
      return v.type ? `(${byId} AND ${x}.target_type = ${p.add(v.type)})` : byId;
    }
    case 'number':
      return numberSql(v, x, p);
    case 'uri':
      if (modifier === 'below') return `${x}.value LIKE ${p.add(likeEscape(v.value) + '%')}`;
      if (modifier === 'above') return `${p.add(v.value)} LIKE (replace(replace(replace(${x}.value, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')`;
      return `${x}.value = ${p.add(v.value)}`;
    case 'missing':
      return 'true';
  }
}

/**
 * Date comparisons between the search range [pl, ph] and the indexed range [lo, hi], as defined in
 * http://hl7.org/fhir/R4/search.html#prefix ("the range of the search value fully contains the
 * range of the target value", "the range above the search value intersects the target", …).
 */
export function dateSql(prefix: Prefix, range: DateRange, lo: string, hi: string, p: SqlParams): string {
  // placeholders are added only when used: PostgreSQL rejects a parameter it cannot type
  const pl = () => p.add(range.lo.toISOString(), 'timestamptz');
  const ph = () => p.add(range.hi.toISOString(), 'timestamptz');
  const contained = () => `(${lo} >= ${pl()} AND ${hi} <= ${ph()})`;
  switch (prefix) {
    case 'eq':
      return contained();
    case 'ne':
      return `NOT ${contained()}`;
    case 'gt':
      return `${hi} > ${ph()}`;
    case 'lt':
      return `${lo} < ${pl()}`;
    case 'ge':
      return `(${hi} > ${ph()} OR ${contained()})`;
    case 'le':
      return `(${lo} < ${pl()} OR ${contained()})`;
    case 'sa':
      return `${lo} > ${ph()}`;
    case 'eb':
      return `${hi} < ${pl()}`;
    case 'ap': {
      // approximately: the search range widened by 10% of its distance from now, at least a day
      const now = Date.now();
      const gap = Math.max(Math.abs(now - range.lo.getTime()) * 0.1, 86_400_000);
      const wl = p.add(new Date(range.lo.getTime() - gap).toISOString(), 'timestamptz');
      const wh = p.add(new Date(range.hi.getTime() + gap).toISOString(), 'timestamptz');
      return `(${lo} <= ${wh} AND ${hi} >= ${wl})`;
    }
  }
}

/**
 * Number and quantity comparisons. An eq search on "100" matches [99.5, 100.5): the implied
 * precision of the written value (http://hl7.org/fhir/R4/search.html#number).
 */
function numberSql(v: Extract<FilterValue, { kind: 'number' }>, x: string, p: SqlParams): string {
  const decimals = (v.value.split(/[eE]/)[0].split('.')[1] ?? '').length;
  const half = 0.5 * 10 ** -decimals;
  const n = Number(v.value);
  const val = () => p.add(v.value, 'numeric');
  let cond: string;
  switch (v.prefix) {
    case 'eq':
      cond = `(${x}.value >= ${p.add(String(n - half), 'numeric')} AND ${x}.value < ${p.add(String(n + half), 'numeric')})`;
      break;
    case 'ne':
      cond = `NOT (${x}.value >= ${p.add(String(n - half), 'numeric')} AND ${x}.value < ${p.add(String(n + half), 'numeric')})`;
      break;
    case 'gt':
    case 'sa':
      cond = `${x}.value > ${val()}`;
      break;
    case 'lt':
    case 'eb':
      cond = `${x}.value < ${val()}`;
      break;
    case 'ge':
      cond = `${x}.value >= ${val()}`;
      break;
    case 'le':
      cond = `${x}.value <= ${val()}`;
      break;
    case 'ap': {
      const d = Math.abs(n) * 0.1;
      cond = `(${x}.value >= ${p.add(String(n - d), 'numeric')} AND ${x}.value <= ${p.add(String(n + d), 'numeric')})`;
      break;
    }
  }
  if (v.system) cond += ` AND ${x}.system = ${p.add(v.system)}`;
  if (v.code) cond += ` AND ${x}.code = ${p.add(v.code)}`;
  return `(${cond})`;
}

function or(conds: string[]): string {
  return conds.length === 1 ? conds[0] : `(${conds.join(' OR ')})`;
}

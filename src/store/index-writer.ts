import type { IndexRows } from '../fhir/search/extract.js';
import type { SqlParams } from './sql.js';

/**
 * CTE parts that write a resource's index rows: for each index table, an INSERT of all rows at
 * once through unnest() of column arrays. `rid` is a SQL expression for the resource's rid, `from`
 * the FROM clause that provides it. Used inside the single statement that writes a version, so a
 * write is one round trip.
 */
export function indexInsertCtes(rows: IndexRows, type: string, lastUpdated: string, rid: string, from: string, p: SqlParams): string[] {
  const ctes: string[] = [];
  const t = p.add(type);
  const add = (name: string, table: string, cols: string[], arrays: [unknown[], string][]) => {
    if (arrays[0][0].length === 0) return;
    const args = arrays.map(([values, cast]) => p.add(values, `${cast}[]`)).join(', ');
    ctes.push(`${name} AS (INSERT INTO ${table} (rid, type, ${cols.join(', ')}) SELECT ${rid}, ${t}, vals.* FROM ${from}, unnest(${args}) AS vals)`);
  };
  const r = rows;
  add('i_token', 'sp_token', ['param', 'system', 'code', 'text_norm'], [
    [r.token.map((x) => x.param), 'text'], [r.token.map((x) => x.system), 'text'], [r.token.map((x) => x.code), 'text'], [r.token.map((x) => x.text), 'text'],
  ]);
  add('i_string', 'sp_string', ['param', 'value', 'value_norm'], [
    [r.string.map((x) => x.param), 'text'], [r.string.map((x) => x.value), 'text'], [r.string.map((x) => x.norm), 'text'],
  ]);
  add('i_date', 'sp_date', ['param', 'lo', 'hi'], [
    [r.date.map((x) => x.param), 'text'], [r.date.map((x) => x.lo.toISOString()), 'timestamptz'], [r.date.map((x) => x.hi.toISOString()), 'timestamptz'],
  ]);
  add('i_reference', 'sp_reference', ['param', 'target_type', 'target_id', 'target_url', 'last_updated'], [
    [r.reference.map((x) => x.param), 'text'], [r.reference.map((x) => x.targetType), 'text'], [r.reference.map((x) => x.targetId), 'text'], [r.reference.map((x) => x.targetUrl), 'text'],
    [r.reference.map(() => lastUpdated), 'timestamptz'],
  ]);
  add('i_number', 'sp_number', ['param', 'value', 'system', 'code'], [
    [r.number.map((x) => x.param), 'text'], [r.number.map((x) => x.value), 'numeric'], [r.number.map((x) => x.system), 'text'], [r.number.map((x) => x.code), 'text'],
  ]);
  add('i_uri', 'sp_uri', ['param', 'value'], [[r.uri.map((x) => x.param), 'text'], [r.uri.map((x) => x.value), 'text']]);
  return ctes;
}

export const INDEX_TABLES = ['sp_token', 'sp_string', 'sp_date', 'sp_reference', 'sp_number', 'sp_uri'];

/** CTE parts that delete every index row of a resource. */
export function indexDeleteCtes(ridParam: string): string[] {
  return INDEX_TABLES.map((table) => `d_${table} AS (DELETE FROM ${table} WHERE rid = ${ridParam})`);
}

import { badRequest } from '../errors.js';

/** A position in a sorted result: the sort values and rid of a boundary row. */
export interface Cursor {
  /** 'after' continues past the row (next page); 'before' goes back from it (previous page). */
  dir: 'after' | 'before';
  keys: (string | null)[];
  rid: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.dir === 'after' ? 1 : 0, c.keys, c.rid])).toString('base64url');
}

export function decodeCursor(s: string): Cursor {
  try {
    const [dir, keys, rid] = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as [number, (string | null)[], string];
    if (!Array.isArray(keys) || typeof rid !== 'string' || !/^\d+$/.test(rid)) throw new Error('shape');
    return { dir: dir === 1 ? 'after' : 'before', keys, rid };
  } catch {
    throw badRequest('The paging cursor is not valid; follow the links the server gave', '_cursor');
  }
}

export interface KeyExpr {
  sql: string;
  cast: string;
  descending: boolean;
}

/**
 * The condition "row comes after the cursor" for a multi-key order ending in rid, built as
 * (k1 after v1) OR (k1 = v1 AND k2 after v2) OR … PostgreSQL sorts NULL as the largest value in
 * both directions (NULLS LAST ascending, NULLS FIRST descending), and the comparisons follow that.
 */
export function keysetCondition(keys: KeyExpr[], values: (string | null)[], rid: string, add: (v: unknown, cast?: string) => string, ridExpr: string, ridDescending: boolean): string {
  const ors: string[] = [];
  const eqs: string[] = [];
  keys.forEach((k, i) => {
    const v = values[i] ?? null;
    const after = afterSql(k.sql, v === null ? null : add(v, k.cast), k.descending);
    if (after !== 'false') ors.push(eqs.length ? `(${eqs.join(' AND ')} AND ${after})` : after);
    eqs.push(v === null ? `${k.sql} IS NULL` : `${k.sql} = ${add(v, k.cast)}`);
  });
  const ridAfter = `${ridExpr} ${ridDescending ? '<' : '>'} ${add(rid, 'bigint')}`;
  ors.push(eqs.length ? `(${eqs.join(' AND ')} AND ${ridAfter})` : ridAfter);
  return `(${ors.join(' OR ')})`;
}

function afterSql(expr: string, v: string | null, descending: boolean): string {
  if (!descending) return v === null ? 'false' : `(${expr} > ${v} OR ${expr} IS NULL)`;
  return v === null ? `${expr} IS NOT NULL` : `${expr} < ${v}`;
}

import { FhirError, FhirErrorCode } from '../errors.js';

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
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const [dir, keys, rid] = Array.isArray(parsed) ? parsed : [];
  if (!Array.isArray(keys) || !keys.every(isKeyValue) || !isRowId(rid)) throw invalidCursor();
  return { dir: dir === 1 ? 'after' : 'before', keys, rid };
}

/** The cursor, when it has one key for each of the `count` keys of the order it continues; else 400. */
export function fitCursor(cursor: Cursor, count: number): Cursor {
  if (cursor.keys.length !== count) throw invalidCursor();
  return cursor;
}

/**
 * Runs the query a cursor's values go into. A value of the wrong type for its column (a word for
 * a date, a number beyond numeric) fails in the database as a data exception (SQLSTATE class 22):
 * with a crafted cursor that is the client's mistake, 400 at `_cursor`, not a 500.
 */
export async function withCursor<T>(cursor: Cursor | undefined, run: () => Promise<T>): Promise<T> {
  if (!cursor) return run();
  try {
    return await run();
  } catch (err) {
    const code = (err as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('22')) throw invalidCursor();
    throw err;
  }
}

export function invalidCursor(): FhirError {
  return new FhirError(FhirErrorCode.INVALID, { message: 'The paging cursor is not valid; follow the links the server gave', expression: '_cursor' });
}

/** A sort value as the server wrote it: text, or null; PostgreSQL refuses U+0000 in text. */
const isKeyValue = (k: unknown): k is string | null => k === null || (typeof k === 'string' && !k.includes('\u0000'));

const MAX_BIGINT = 9223372036854775807n;
/** A row id: a bigint, so within its range. */
const isRowId = (rid: unknown): rid is string => typeof rid === 'string' && /^\d{1,19}$/.test(rid) && BigInt(rid) <= MAX_BIGINT;

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

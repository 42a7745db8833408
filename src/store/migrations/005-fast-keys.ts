import type { Queryable } from '../database.js';

/**
 * Two costs a CPU profile of PostgreSQL writing a referral message showed:
 *
 * - Text index keys compared under the database's collation. Unless it is exactly "C", every
 *   comparison goes through the locale (`varstr_cmp`), and each resource write inserts about a
 *   hundred index entries whose keys start with (type, param). Type names, parameter codes, ids,
 *   codes, systems and URLs are identifiers: byte order is their order, so they are "C".
 *   (On a database whose collation is C.UTF-8 nothing sorts differently.)
 * - `pglz_compress`, 14 % of a backend's time: JSON over 2 kB (Tasks, Provenance, the answers in
 *   the message log) is compressed when stored. LZ4 does the same job several times faster; it
 *   is used where the server has it (`lz4` below), and PGlite keeps pglz.
 */
const KEYS: Record<string, string[]> = {
  resource: ['type', 'id'],
  resource_version: ['type', 'id'],
  sp_token: ['type', 'param', 'system', 'code'],
  sp_string: ['type', 'param'],
  sp_date: ['type', 'param'],
  sp_reference: ['type', 'param', 'target_type', 'target_id', 'target_url'],
  sp_number: ['type', 'param', 'system', 'code'],
  sp_uri: ['type', 'param', 'value'],
};

export const sql = Object.entries(KEYS)
  .map(([table, columns]) => `ALTER TABLE ${table} ${columns.map((c) => `ALTER COLUMN ${c} TYPE text COLLATE "C"`).join(', ')};`)
  .join('\n');

const COMPRESSED: [string, string][] = [
  ['resource', 'content'],
  ['resource_version', 'content'],
  ['message_log', 'response'],
  ['message_outbox', 'content'],
];

/** The LZ4 statements, when this server was built with LZ4 (PostgreSQL 14+ with --with-lz4). */
export async function lz4(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ ok: boolean }>("SELECT 'lz4' = ANY(enumvals) AS ok FROM pg_settings WHERE name = 'default_toast_compression'");
  if (!rows[0]?.ok) return [];
  return COMPRESSED.map(([table, column]) => `ALTER TABLE ${table} ALTER COLUMN ${column} SET COMPRESSION lz4`);
}

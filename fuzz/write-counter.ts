import type { Queryable } from '../src/store/database.js';

/*
 * "No partial write", measured exactly: a row trigger on every table of the store counts the rows
 * each committed statement inserted, updated or deleted, in a table of its own. A rolled-back
 * write rolls its counts back with it, so the counts before and after a request differ by what the
 * request left behind, table by table, whatever it did (an insert, but also an update or a delete
 * that a count of rows would miss). The trigger exists only in the fuzz suite's database.
 */

export type WriteCounts = Map<string, number>;

/** Every table a request could write to. */
const TABLES = [
  'resource', 'resource_version', 'sp_token', 'sp_string', 'sp_date', 'sp_reference', 'sp_number', 'sp_uri',
  'caseload', 'identity_claim', 'message_log', 'message_reference', 'message_outbox', 'pathway_job', 'task_queue', 'audit_event', 'auth_jti',
];

export async function installWriteCounter(db: Queryable): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS fuzz_writes (tbl text PRIMARY KEY, n bigint NOT NULL)`);
  await db.query(`CREATE OR REPLACE FUNCTION fuzz_count_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO fuzz_writes (tbl, n) VALUES (TG_TABLE_NAME, 1) ON CONFLICT (tbl) DO UPDATE SET n = fuzz_writes.n + 1;
      RETURN NULL;
    END $$`);
  for (const table of TABLES) {
    await db.query(`DROP TRIGGER IF EXISTS fuzz_count_write ON ${table}`);
    await db.query(`CREATE TRIGGER fuzz_count_write AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION fuzz_count_write()`);
  }
}

export async function readWriteCounts(db: Queryable): Promise<WriteCounts> {
  const rows = await db.query<{ tbl: string; n: string | number }>('SELECT tbl, n FROM fuzz_writes');
  return new Map(rows.map((r) => [r.tbl, Number(r.n)]));
}

/** Rows written per table between two readings (only the tables that changed). */
export function writesBetween(before: WriteCounts, after: WriteCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [table, n] of after) {
    const d = n - (before.get(table) ?? 0);
    if (d !== 0) out[table] = d;
  }
  return out;
}

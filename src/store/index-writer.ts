import type { IndexRows } from '../fhir/search/extract.js';
import type { SqlParams } from './sql.js';
import { caseloadInsert } from './compartment-keys.js';
import { TASK_FACT_TABLE, taskFactInsert } from './task-fact.js';
import { TASK_QUEUE_TABLE, taskQueueInsert } from './task-queue.js';

type Column = [name: string, cast: string, value: (row: any) => unknown];

/** The columns of each index table after (rid, type), and how to read them from an index row. */
const TABLES: Record<keyof IndexRows, { table: string; columns: Column[] }> = {
  token: { table: 'sp_token', columns: [['param', 'text', (x) => x.param], ['system', 'text', (x) => x.system], ['code', 'text', (x) => x.code], ['text_norm', 'text', (x) => x.text]] },
  string: { table: 'sp_string', columns: [['param', 'text', (x) => x.param], ['value', 'text', (x) => x.value], ['value_norm', 'text', (x) => x.norm]] },
  date: { table: 'sp_date', columns: [['param', 'text', (x) => x.param], ['lo', 'timestamptz', (x) => x.lo.toISOString()], ['hi', 'timestamptz', (x) => x.hi.toISOString()]] },
  reference: {
    table: 'sp_reference',
    columns: [['param', 'text', (x) => x.param], ['target_type', 'text', (x) => x.targetType], ['target_id', 'text', (x) => x.targetId], ['target_url', 'text', (x) => x.targetUrl], ['last_updated', 'timestamptz', (x) => x.lastUpdated]],
  },
  number: { table: 'sp_number', columns: [['param', 'text', (x) => x.param], ['value', 'numeric', (x) => x.value], ['system', 'text', (x) => x.system], ['code', 'text', (x) => x.code]] },
  uri: { table: 'sp_uri', columns: [['param', 'text', (x) => x.param], ['value', 'text', (x) => x.value]] },
};

/** A resource whose index rows are written: its position (`ord`) in the CTE that gives the rids. */
export interface IndexedResource {
  ord: number;
  type: string;
  id: string;
  lastUpdated: string;
  rows: IndexRows;
}

/**
 * CTE parts that write index rows, inside the single statement that writes the resources'
 * versions (so a write is one round trip): for each index table with rows, one INSERT of all of
 * them through unnest() of column arrays. The rids come from the CTE `ridsCte` (columns `ord`,
 * `rid`: the sequence values drawn for new resources, or the row an update changed), and each
 * index row finds its rid by its resource's `ord`. Returns `[kind, sql]` pairs.
 */
export function indexInsertCtes(resources: IndexedResource[], ridsCte: string, p: SqlParams): [kind: string, sql: string][] {
  const out: [string, string][] = [];
  for (const [kind, { table, columns }] of Object.entries(TABLES) as [keyof IndexRows, (typeof TABLES)[keyof IndexRows]][]) {
    const list = resources.flatMap((r) => (r.rows[kind] as object[]).map((x) => ({ ...x, lastUpdated: r.lastUpdated, ord: r.ord, type: r.type })));
    if (list.length === 0) continue;
    const all: Column[] = [['ord', 'int', (x) => x.ord], ['type', 'text', (x) => x.type], ...columns];
    const args = all.map(([, cast, read]) => p.add(list.map(read), `${cast}[]`)).join(', ');
    const names = all.map((c) => c[0]);
    out.push([
      kind,
      `INSERT INTO ${table} (rid, ${names.slice(1).join(', ')}) SELECT n.rid, ${names.slice(1).map((c) => `u.${c}`).join(', ')} FROM unnest(${args}) AS u(${names.join(', ')}) JOIN ${ridsCte} n ON n.ord = u.ord`,
    ]);
  }
  const queue = taskQueueInsert(resources, ridsCte, p);
  if (queue) out.push(['queue', queue]);
  const caseload = caseloadInsert(resources, ridsCte, p);
  if (caseload) out.push(['caseload', caseload]);
  const fact = taskFactInsert(resources, ridsCte, p);
  if (fact) out.push(['fact', fact]);
  return out;
}

/** Every table of index rows, the queue keys of Tasks (task-queue.ts), the caseloads they and CareTeams make (compartment-keys.ts) and the facts of pathway Tasks (task-fact.ts) included. */
export const INDEX_TABLES = [...Object.values(TABLES).map((t) => t.table), TASK_QUEUE_TABLE, 'caseload', TASK_FACT_TABLE];

/** CTE parts (`[name, sql]`) that delete every index row of a resource. */
export function indexDeleteCtes(ridParam: string): [name: string, sql: string][] {
  return INDEX_TABLES.map((table) => [`d_${table}`, `DELETE FROM ${table} WHERE rid = ${ridParam}`]);
}

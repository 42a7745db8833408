import { Agent, request } from 'undici';
import { systemClock } from '../src/clock.js';
import { PATHWAY } from '../src/pathway/codes.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { migrate } from '../src/store/migrate.js';
import { ResourceStore } from '../src/store/resource-store.js';
import { fmt, measure } from './stats.js';
import { dropDatabase, freePort, freshDatabase, startServer, stopServer } from './support.js';

const DB_NAME = 'stepwise_bench_queue';
/** Open Tasks at which the queue is measured, ascending (BENCH_QUEUE_TASKS=100000,1000000). */
const SIZES = (process.env.BENCH_QUEUE_TASKS ?? '100000,1000000').split(',').map(Number);
const TEAMS = 10;
const CLAIMS = 3000;
const CLAIMERS = 16;
const BATCH = 50_000;
const OPEN = 'requested,received,accepted,ready,in-progress,on-hold';

/**
 * The work-queue figures of the pathway issue, against a server process on PostgreSQL: $claim/s
 * at concurrency 16 (each claim a different Task, every one must win), and the first page of a
 * team's queue (priority then due time) at each size, the Tasks spread over ten teams.
 */
export async function benchQueue(log: (line: string) => void): Promise<Record<string, string>> {
  const dbUrl = await freshDatabase(DB_NAME);
  const db = new PostgresDatabase({ connectionString: dbUrl, poolSize: 4 });
  await migrate(db);
  const store = new ResourceStore(db, systemClock);
  for (let i = 0; i < CLAIMERS; i++) await store.update({ resourceType: 'Practitioner', id: `clinician-${i}` });
  const port = await freePort();
  const server = await startServer(dbUrl, port);
  const base = `http://127.0.0.1:${port}/fhir`;
  const agent = new Agent({ connections: 32, pipelining: 1 });
  const out: Record<string, string> = {};
  try {
    let loaded = 0;
    for (const size of SIZES) {
      const t0 = performance.now();
      for (; loaded < size; loaded += Math.min(BATCH, size - loaded)) await loadTasks(db, loaded, Math.min(BATCH, size - loaded));
      await db.query('ANALYZE');
      log(`${size} open Tasks loaded (${fmt((performance.now() - t0) / 1000, 0)} s for this step)`);
      if (size === SIZES[0]) {
        // each claim takes a different Task of team-0's queue
        const claims = await measure(Math.min(CLAIMS, Math.floor(size / TEAMS)), CLAIMERS, (i) => claim(agent, base, `bulk-${i * TEAMS}`, `clinician-${i % CLAIMERS}`));
        out[`$claim/s at concurrency ${CLAIMERS} (${size} open Tasks)`] = `${fmt(claims.perSecond, 0)} /s (p50 ${fmt(claims.p50, 2)} ms, p99 ${fmt(claims.p99, 2)} ms)`;
        log(`claims: ${out[`$claim/s at concurrency ${CLAIMERS} (${size} open Tasks)`]}`);
      }
      const queue = (i: number) => `Task?team=Organization/team-${i % TEAMS}&status=${OPEN}&_sort=priority-rank,due&_count=20`;
      const overdue = (i: number) => `${queue(i)}&due=lt2026-02-01T00:00:00Z`;
      for (const [name, path] of [['team queue, first page', queue], ['overdue queue, first page', overdue]] as const) {
        await measure(100, 1, (i) => get(agent, base, path(i)));
        const m = await measure(1000, 1, (i) => get(agent, base, path(i)));
        out[`${name} at ${size} open Tasks (_sort=priority-rank,due, _count=20)`] = `p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms`;
        log(`${name} at ${size}: p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms`);
      }
    }
  } finally {
    await agent.close();
    await stopServer(server);
    await db.close();
    await dropDatabase(DB_NAME);
  }
  return out;
}

async function claim(agent: Agent, base: string, taskId: string, who: string): Promise<void> {
  const body = { resourceType: 'Parameters', parameter: [{ name: 'practitioner', valueReference: { reference: `Practitioner/${who}` } }] };
  const res = await request(`${base}/Task/${taskId}/$claim`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify(body) });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`$claim Task/${taskId}: ${res.statusCode}`);
}

async function get(agent: Agent, base: string, path: string): Promise<void> {
  const res = await request(`${base}/${path}`, { dispatcher: agent });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode}`);
}

/**
 * Writes `count` open triage Tasks (ids bulk-<from>…) in one statement: the resources and the
 * index rows the server would write for them (status, code, intent, priority, authored-on, due,
 * owner, team, priority-rank, and task_queue), computed in SQL. Their first versions are not
 * written: nothing here reads history. Priorities: 5 % stat, 10 % asap, 25 % urgent, 60 % routine;
 * statuses: 60 % requested, the rest received, accepted, in-progress, on hold; due times spread
 * over two months around February 2026; owned by their team.
 */
export async function loadTasks(db: PostgresDatabase, from: number, count: number): Promise<void> {
  await db.query(
    `WITH g AS MATERIALIZED (
       SELECT i, nextval(pg_get_serial_sequence('resource', 'rid')) AS rid, 'bulk-' || i AS id,
         'team-' || (i % ${TEAMS}) AS team,
         CASE WHEN i % 20 = 0 THEN 'stat' WHEN i % 20 < 3 THEN 'asap' WHEN i % 20 < 8 THEN 'urgent' ELSE 'routine' END AS priority,
         CASE WHEN i % 20 = 0 THEN 1 WHEN i % 20 < 3 THEN 2 WHEN i % 20 < 8 THEN 3 ELSE 4 END AS rank,
         CASE (i / ${TEAMS}) % 10 WHEN 6 THEN 'received' WHEN 7 THEN 'accepted' WHEN 8 THEN 'in-progress' WHEN 9 THEN 'on-hold' ELSE 'requested' END AS status,
         timestamptz '2026-01-01T00:00:00Z' + ((i * 7919) % 86400) * interval '1 minute' AS due,
         timestamptz '2025-12-01T00:00:00Z' + (i % 86400) * interval '1 minute' AS authored
       FROM generate_series($1::bigint, $2::bigint) AS i),
     r AS (INSERT INTO resource (rid, type, id, version_id, last_updated, content) OVERRIDING SYSTEM VALUE
       SELECT rid, 'Task', id, 1, now(), json_build_object(
         'resourceType', 'Task', 'id', id, 'meta', json_build_object('versionId', '1', 'lastUpdated', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
         'extension', json_build_array(json_build_object('url', $3::text, 'valueReference', json_build_object('reference', 'Organization/' || team))),
         'status', status, 'intent', 'order', 'priority', priority,
         'code', json_build_object('coding', json_build_array(json_build_object('system', $4::text, 'code', 'triage'))),
         'authoredOn', to_char(authored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'owner', json_build_object('reference', 'Organization/' || team),
         'restriction', json_build_object('period', json_build_object('end', to_char(due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
       )::text FROM g),
     t AS (INSERT INTO sp_token (rid, type, param, system, code)
       SELECT rid, 'Task', v.param, v.system, v.code FROM g, LATERAL (VALUES ('code', $4::text, 'triage'), ('intent', NULL, 'order'), ('priority', NULL, g.priority), ('status', NULL, g.status)) AS v(param, system, code)),
     d AS (INSERT INTO sp_date (rid, type, param, lo, hi)
       SELECT rid, 'Task', v.param, v.at, v.at + interval '999 milliseconds' FROM g, LATERAL (VALUES ('authored-on', g.authored), ('due', g.due)) AS v(param, at)),
     f AS (INSERT INTO sp_reference (rid, type, param, target_type, target_id, last_updated)
       SELECT rid, 'Task', v.param, 'Organization', team, now() FROM g, LATERAL (VALUES ('owner'), ('team')) AS v(param)),
     n AS (INSERT INTO sp_number (rid, type, param, value) SELECT rid, 'Task', 'priority-rank', rank FROM g),
     q AS (INSERT INTO task_queue (rid, param, target_type, target_id, status, rank, due)
       SELECT rid, v.param, 'Organization', team, status, rank, due FROM g, LATERAL (VALUES ('owner'), ('team')) AS v(param))
     SELECT count(*) FROM g`,
    [from, from + count - 1, PATHWAY.taskTeam, PATHWAY.taskCode],
  );
}

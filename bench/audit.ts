import { Agent, request } from 'undici';
import { CLIENT_ID_SYSTEM } from '../src/security/principal.js';
import { migrate } from '../src/store/migrate.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { fmt, measure } from './stats.js';
import { dropDatabase, freePort, freshDatabase, startServer, stopServer } from './support.js';

const DB_NAME = 'stepwise_bench_audit';
/** AuditEvents in the trail (BENCH_AUDIT_EVENTS; the issue asks for 10 million). */
const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 10_000_000);
/** People the events name: ~90 events each (100,000 at ten million). */
const PATIENTS = Math.max(1, Math.min(100_000, Math.floor(EVENTS / 100)));
const AGENTS = 500;
const BATCH = 1_000_000;
/** The year the events are spread over. */
const FROM = '2025-01-01T00:00:00Z';
const SECONDS = 365 * 86_400;

/**
 * Searching the audit trail by patient, agent and date at EVENTS AuditEvents (issue 13), against
 * a server process on PostgreSQL: the events are generated in SQL, a million a statement, with the
 * table's indexes dropped during the load and built again after (their definitions as migrated,
 * read from pg_indexes), then each search is timed over HTTP, `_count=20`, one at a time. Each of
 * these searches records its own AuditEvent, as every request does: that INSERT is in the figures.
 */
export async function benchAudit(log: (line: string) => void): Promise<Record<string, string>> {
  const dbUrl = await freshDatabase(DB_NAME);
  // the load runs a million rows a statement: past the server's statement timeout, on purpose
  const db = new PostgresDatabase({ connectionString: dbUrl, poolSize: 2, statementTimeoutMs: 0 });
  const out: Record<string, string> = {};
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  const agent = new Agent({ connections: 4, pipelining: 1 });
  try {
    await migrate(db);
    const t0 = performance.now();
    await loadEvents(db, log);
    out[`load of ${EVENTS.toLocaleString('en-GB')} AuditEvents (generate_series, indexes built after)`] = `${fmt((performance.now() - t0) / 1000, 0)} s`;
    const size = (await db.query<{ s: string }>("SELECT pg_size_pretty(pg_total_relation_size('audit_event')) AS s"))[0].s;
    out['audit_event table and indexes'] = size;
    const port = await freePort();
    server = await startServer(dbUrl, port);
    const base = `http://127.0.0.1:${port}/fhir`;
    const patient = (i: number) => `Patient/p-${(i * 7919) % PATIENTS}`;
    const client = (i: number) => encodeURIComponent(`${CLIENT_ID_SYSTEM}|client-${(i * 31) % AGENTS}`);
    const searches: [string, (i: number) => string][] = [
      ['AuditEvent?patient=…', (i) => `AuditEvent?patient=${patient(i)}&_count=20`],
      ['AuditEvent?agent:identifier=…&date=ge… (last month)', (i) => `AuditEvent?agent:identifier=${client(i)}&date=ge2025-12-01&_count=20`],
      ['AuditEvent?patient=…&date=ge…&date=le… (one quarter)', (i) => `AuditEvent?patient=${patient(i)}&date=ge2025-04-01&date=le2025-06-30&_count=20`],
    ];
    for (const [name, path] of searches) {
      await measure(100, 1, (i) => get(agent, base, path(i + 5000)));
      const m = await measure(1000, 1, (i) => get(agent, base, path(i)));
      out[`${name} at ${EVENTS.toLocaleString('en-GB')} events (_count=20)`] = `p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms`;
      log(`${name}: p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms`);
    }
  } finally {
    await agent.close();
    if (server) await stopServer(server);
    await db.close();
    await dropDatabase(DB_NAME);
  }
  return out;
}

async function get(agent: Agent, base: string, path: string): Promise<void> {
  const res = await request(`${base}/${path}`, { dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
  // a search that finds nothing measures nothing
  if (!text.includes('"entry"')) throw new Error(`GET ${path} found no AuditEvent`);
}

/** The trail's rows, indexes dropped during the load and rebuilt as the migrations made them. */
async function loadEvents(db: PostgresDatabase, log: (line: string) => void): Promise<void> {
  const indexes = await db.query<{ name: string; def: string }>(
    "SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'audit_event' AND indexname <> 'audit_event_pkey'",
  );
  for (const i of indexes) await db.query(`DROP INDEX ${i.name}`);
  for (let from = 0; from < EVENTS; from += BATCH) {
    const t0 = performance.now();
    await insertEvents(db, from, Math.min(BATCH, EVENTS - from));
    log(`${Math.min(from + BATCH, EVENTS)} AuditEvents (${fmt((performance.now() - t0) / 1000, 0)} s)`);
  }
  for (const i of indexes) {
    const t0 = performance.now();
    await db.query(i.def);
    log(`${i.name} built (${fmt((performance.now() - t0) / 1000, 0)} s)`);
  }
  await db.query('ANALYZE audit_event');
}

/**
 * `count` AuditEvents as the server records a read: PATIENTS people (nine events in ten name one),
 * 500 client systems, one every ~3 s over 2025, in time order (as appended).
 */
async function insertEvents(db: PostgresDatabase, from: number, count: number): Promise<void> {
  await db.query(
    `INSERT INTO audit_event (id, recorded, patient, agent, entity, subtype, action, outcome, content)
     SELECT id, recorded, patient, agent, CASE WHEN patient IS NULL THEN '{}'::text[] ELSE ARRAY[patient] END, 'read', 'R', '0',
       json_build_object(
         'resourceType', 'AuditEvent', 'id', id,
         'meta', json_build_object('versionId', '1', 'lastUpdated', at),
         'type', json_build_object('system', 'http://terminology.hl7.org/CodeSystem/audit-event-type', 'code', 'rest'),
         'subtype', json_build_array(json_build_object('system', 'http://hl7.org/fhir/restful-interaction', 'code', 'read')),
         'action', 'R', 'recorded', at, 'outcome', '0',
         'agent', json_build_array(json_build_object('who', json_build_object('identifier', json_build_object('system', $3::text, 'value', client), 'display', client), 'requestor', true)),
         'source', json_build_object('observer', json_build_object('display', 'Stepwise bench')),
         'entity', CASE WHEN patient IS NULL THEN json_build_array() ELSE json_build_array(json_build_object('what', json_build_object('reference', patient), 'role', json_build_object('code', '1'))) END
       )::text
     FROM (
       SELECT 'bench-' || g AS id, r AS recorded, to_char(r AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
              -- the person from g / 10, so that which events name no one (g % 10 = 0) is no one's in particular
              CASE WHEN g % 10 = 0 THEN NULL ELSE 'Patient/p-' || ((g / 10) % ${PATIENTS}) END AS patient,
              'client-' || (g % ${AGENTS}) AS client, $3::text || '|client-' || (g % ${AGENTS}) AS agent
         FROM generate_series($1::bigint, $2::bigint) AS g,
              LATERAL (SELECT timestamptz '${FROM}' + (g * ${SECONDS}::float8 / ${EVENTS}) * interval '1 second' AS r) AS t
     ) AS e`,
    [from, from + count - 1, CLIENT_ID_SYSTEM],
  );
}

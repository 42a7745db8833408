import type { Principal } from '../src/security/principal.js';
import { FixedClock } from '../src/clock.js';
import { loadStepwiseConformance } from '../src/fhir/stepwise-profiles.js';
import { MEASURES } from '../src/measures/definitions.js';
import { evaluateMeasure } from '../src/measures/evaluate.js';
import { PATHWAY } from '../src/pathway/codes.js';
import { CONTACT_OUTCOME } from '../src/pathway/outreach/outcome.js';
import { PATHWAY_TEAMS } from '../src/pathway/seed-rules.js';
import { parseScopes } from '../src/security/scopes.js';
import { migrate } from '../src/store/migrate.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { ResourceStore } from '../src/store/resource-store.js';
import { upsertAll } from '../src/store/seed.js';
import { fmt } from './stats.js';
import { dropDatabase, freshDatabase } from './support.js';

const DB_NAME = 'stepwise_bench_measures';
/** Referrals in the year (STEPWISE_BENCH_MEASURE_REFERRALS=20000 for a quick try). */
const REFERRALS = Number(process.env.STEPWISE_BENCH_MEASURE_REFERRALS ?? 500_000);
/** Timed evaluations per measure, after one to warm up. */
const RUNS = Number(process.env.STEPWISE_BENCH_MEASURE_RUNS ?? 3);
const TEAMS = ['crisis-team', 'cmht-north', 'cmht-south', 'cmht-east', 'cmht-west'];
const YEAR = { periodStart: '2025-01-01', periodEnd: '2025-12-31' };

/**
 * npm run bench measures (issue 16): a year of a busy trust's pathway Tasks on PostgreSQL, written
 * with SQL as the server indexes them, then each measure evaluated over the year by
 * `evaluateMeasure` (the function $evaluate-measure calls), for the whole trust and for one team,
 * on a connection configured as the server's (its statement timeout, no parallel workers).
 */
export async function benchMeasures(log: (line: string) => void): Promise<Record<string, string>> {
  const dbUrl = await freshDatabase(DB_NAME);
  const db = new PostgresDatabase({ connectionString: dbUrl, poolSize: 2 });
  const out: Record<string, string> = {};
  try {
    await migrate(db);
    const store = new ResourceStore(db, new FixedClock(new Date('2026-01-15T12:00:00Z')));
    await upsertAll(store, [...PATHWAY_TEAMS, ...TEAMS.slice(1).map(teamOrganization), ...loadStepwiseConformance().filter((r) => r.resourceType === 'Measure')]);
    const t0 = performance.now();
    // the load's statements run for minutes: a connection of its own without the server's statement timeout
    const loader = new PostgresDatabase({ connectionString: dbUrl, poolSize: 1, statementTimeoutMs: 0 });
    const tasks = await loadYear(loader, REFERRALS, log).finally(() => loader.close());
    out[`data: ${REFERRALS} referrals in 2025`] = `${tasks} Tasks (triage, clarify-referral, escalation, handover, first-contact, outreach, contact), loaded in ${fmt((performance.now() - t0) / 1000, 0)} s`;
    const nurse: Principal = { kind: 'user', clientId: 'web', user: 'nurse', teams: ['cmht-north'], scopes: parseScopes('user/*.rs'), scope: 'user/*.rs' };
    for (const m of MEASURES) {
      for (const [who, as] of [['trust', store], ['cmht-north', store.for(nurse)]] as const) {
        await evaluateMeasure(as, m.id, YEAR);
        const times: number[] = [];
        let cases = 0;
        for (let i = 0; i < RUNS; i++) {
          const s = performance.now();
          const report = await evaluateMeasure(as, m.id, YEAR);
          times.push(performance.now() - s);
          cases = report.group?.[0]?.population?.find((p) => p.code?.coding?.[0]?.code === 'initial-population')?.count ?? 0;
        }
        times.sort((a, b) => a - b);
        const line = `median ${fmt(times[Math.floor(times.length / 2)], 0)} ms, max ${fmt(times[times.length - 1], 0)} ms (${cases} cases)`;
        out[`${m.id}, the year, ${who}`] = line;
        log(`${m.id} (${who}): ${line}`);
      }
    }
  } finally {
    await db.close();
    // STEPWISE_BENCH_MEASURE_KEEP=1 leaves the database for EXPLAIN ANALYZE
    if (!process.env.STEPWISE_BENCH_MEASURE_KEEP) await dropDatabase(DB_NAME);
  }
  return out;
}

function teamOrganization(id: string) {
  return { resourceType: 'Organization' as const, id, active: true, identifier: [{ system: PATHWAY.teamId, value: id }], name: id };
}

/** Index tables whose secondary indexes are dropped for the load and built again afterwards, as they were. */
const LOADED_TABLES = ['sp_token', 'sp_date', 'sp_reference', 'sp_number', 'resource', 'resource_version', 'caseload', 'task_fact'];

/**
 * Writes the year: a staging table of Task facts (deterministic pseudo-random, `u(i, k)` in
 * [0, 1)), then the resources, their versions where a measure reads history (escalations,
 * handovers), and the index rows the server writes for those fields, in one statement per table.
 * The secondary indexes are built after the load (the same definitions), then ANALYZE.
 * Of the index rows, those of the parameters the Tasks carry (code, status, priority, intent,
 * business status, contact outcome, team, owner, patient, subject, part-of, authored-on, due,
 * period, priority-rank) and the task_fact row the write path derives from them; no Patients,
 * ServiceRequests or audit rows, which no measure reads.
 *
 * Per referral i: a triage Task (3 % stat, 5 % asap, 22 % urgent, 70 % routine; due in 4 h, 24 h
 * or 28 days; 12 % redirected; 1 % withdrawn; the last fortnight's half still waiting), with a
 * clarify-referral Task for 30 %; a same-day escalation for 8 % (decided in 0.5–8.5 h, 95 %);
 * a handover for 5 % (accepted a day later; 85 % completed 3–20 days on) with its first-contact
 * Task (made in 6–100 h, 90 % contact made); an outreach attempt for 10 %; and a cadence contact
 * for half (contacts are most of a trust's Tasks, and no measure reads them).
 */
async function loadYear(db: PostgresDatabase, n: number, log: (line: string) => void): Promise<number> {
  const patients = Math.max(1, Math.floor(n * 0.85));
  const u = (k: number) => `(((i * 2654435761 + ${k} * 97531) % 1000003) / 1000003.0)`;
  const team = `(ARRAY[${TEAMS.map((t) => `'${t}'`).join(', ')}])[1 + (i % ${TEAMS.length})]`;
  await db.query(`CREATE UNLOGGED TABLE bench_task (
    rid bigint, id text, code text, status text, priority text, team text, patient text,
    authored timestamptz, due timestamptz, ended timestamptz, bstatus text, part_of text, outcome text, accepted timestamptz, last timestamptz)`);
  const stage = (sql: string) => db.query(`INSERT INTO bench_task (rid, id, code, status, priority, team, patient, authored, due, ended, bstatus, part_of, outcome, accepted, last)
    SELECT nextval(pg_get_serial_sequence('resource', 'rid')), id, code, status, priority, team, patient,
      authored::timestamptz, due::timestamptz, ended::timestamptz, bstatus, part_of, outcome, accepted::timestamptz, last::timestamptz
    FROM (${sql}) x(id, code, status, priority, team, patient, authored, due, ended, bstatus, part_of, outcome, accepted, last)`);
  const referral = `SELECT i, 'p-' || (i % ${patients}) AS patient,
      timestamptz '2025-01-01T00:00:00Z' + (i - 1) * (interval '365 days' / ${n}) + ${u(1)} * interval '10 minutes' AS received,
      CASE WHEN ${u(2)} < 0.03 THEN 'stat' WHEN ${u(2)} < 0.08 THEN 'asap' WHEN ${u(2)} < 0.30 THEN 'urgent' ELSE 'routine' END AS priority,
      ${u(3)} < 0.12 AS redirected, ${u(4)} AS r4, ${u(5)} AS r5
    FROM generate_series(1, ${n}) AS i`;
  const s0 = performance.now();
  // triage: due by the response standard; triaged within a spread around it
  await stage(`SELECT 'tr-' || i, 'triage',
      CASE WHEN r4 < 0.01 THEN 'cancelled' WHEN received > timestamptz '2025-12-17T00:00:00Z' AND r5 < 0.5 THEN 'on-hold' ELSE 'completed' END,
      priority, CASE WHEN redirected THEN 'front-door-team' WHEN priority IN ('stat', 'asap') THEN 'crisis-team' ELSE ${team} END, patient,
      received, received + CASE WHEN priority IN ('stat', 'asap') THEN interval '4 hours' WHEN priority = 'urgent' THEN interval '24 hours' ELSE interval '28 days' END,
      CASE WHEN r4 < 0.01 OR (received > timestamptz '2025-12-17T00:00:00Z' AND r5 < 0.5) THEN NULL
        ELSE received + r5 * CASE WHEN priority IN ('stat', 'asap') THEN interval '6 hours' WHEN priority = 'urgent' THEN interval '36 hours' ELSE interval '40 days' END END,
      CASE WHEN redirected THEN 'redirected' ELSE 'triaged' END, NULL, NULL, NULL::timestamptz, NULL::timestamptz
    FROM (${referral}) g`);
  await stage(`SELECT 'cl-' || i, 'clarify-referral', 'completed', priority, 'front-door-team', patient, received, received + interval '1 day', received + interval '5 hours', NULL, 'Task/tr-' || i, NULL, NULL::timestamptz, NULL::timestamptz
    FROM (${referral}) g WHERE ${u(6)} < 0.30`);
  await stage(`SELECT 'es-' || i, 'escalation', CASE WHEN ${u(8)} < 0.95 THEN 'completed' ELSE 'requested' END, 'asap', ${team}, patient,
      received + ${u(9)} * interval '60 days', received + ${u(9)} * interval '60 days' + interval '4 hours', NULL, NULL, NULL, NULL, NULL::timestamptz,
      CASE WHEN ${u(8)} < 0.95 THEN received + ${u(9)} * interval '60 days' + interval '30 minutes' + ${u(10)} * interval '8 hours' END
    FROM (${referral}) g WHERE ${u(7)} < 0.08`);
  const handover = `SELECT g.*, received + interval '10 days' + ${u(12)} * interval '30 days' AS asked FROM (${referral}) g WHERE ${u(11)} < 0.05`;
  await stage(`SELECT 'ho-' || i, 'transfer-of-responsibility', CASE WHEN ${u(13)} < 0.85 THEN 'completed' ELSE 'accepted' END, 'urgent', ${team}, patient,
      asked, NULL, NULL, NULL, NULL, NULL, asked + interval '1 day',
      CASE WHEN ${u(13)} < 0.85 THEN asked + interval '4 days' + ${u(14)} * interval '17 days' END
    FROM (${handover}) h`);
  await stage(`SELECT 'fc-' || i, 'first-contact', 'completed', 'urgent', ${team}, patient,
      asked + interval '1 day', asked + interval '1 day' + interval '72 hours', asked + interval '1 day' + interval '6 hours' + ${u(15)} * interval '94 hours',
      NULL, 'Task/ho-' || i, CASE WHEN ${u(16)} < 0.9 THEN 'contact-made' ELSE 'did-not-attend' END, NULL::timestamptz, NULL::timestamptz
    FROM (${handover}) h`);
  await stage(`SELECT 'or-' || i, (ARRAY['outreach-call', 'outreach-home-visit', 'outreach-partner-contact'])[1 + i % 3],
      CASE WHEN ${u(18)} < 0.75 THEN 'completed' ELSE 'failed' END, 'urgent', ${team}, patient,
      received + interval '30 days', received + interval '30 days 12 hours',
      received + interval '30 days' + LEAST(${u(19)} * interval '14 hours', interval '12 hours'),
      NULL, NULL, CASE WHEN ${u(19)} * 14 >= 12 THEN 'not-done-in-time' WHEN ${u(18)} < 0.75 THEN 'contact-made' ELSE 'did-not-attend' END, NULL::timestamptz, NULL::timestamptz
    FROM (${referral}) g WHERE ${u(17)} < 0.10`);
  await stage(`SELECT 'co-' || i, 'contact', 'completed', 'routine', ${team}, patient,
      received + interval '14 days', received + interval '21 days', received + interval '17 days', NULL, NULL, 'contact-made', NULL::timestamptz, NULL::timestamptz
    FROM (${referral}) g WHERE i % 2 = 0`);
  const [{ count }] = await db.query<{ count: string }>('SELECT count(*) FROM bench_task');
  log(`staged ${count} Tasks in ${fmt((performance.now() - s0) / 1000, 0)} s`);

  const indexes = await db.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY($1) AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
    [LOADED_TABLES],
  );
  for (const ix of indexes) await db.query(`DROP INDEX ${ix.name}`);
  const s1 = performance.now();
  await writeTasks(db);
  log(`wrote the resources, versions and index rows in ${fmt((performance.now() - s1) / 1000, 0)} s`);
  const s2 = performance.now();
  for (const ix of indexes) await db.query(ix.def);
  await db.query(`SELECT setval(pg_get_serial_sequence('resource', 'rid'), (SELECT max(rid) FROM resource))`);
  await db.query('DROP TABLE bench_task');
  await db.query('VACUUM ANALYZE');
  log(`indexes built and analysed in ${fmt((performance.now() - s2) / 1000, 0)} s`);
  return Number(count);
}

const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/** A Task's JSON as the server stores it, with `status` and `version` given (for its versions). */
function content(status: string, version: string, at: string): string {
  return `json_strip_nulls(json_build_object(
    'resourceType', 'Task', 'id', b.id, 'meta', json_build_object('versionId', ${version}::text, 'lastUpdated', ${iso(at)}),
    'extension', json_build_array(json_build_object('url', $1::text, 'valueReference', json_build_object('reference', 'Organization/' || b.team))),
    'status', ${status}, 'intent', 'order', 'priority', b.priority,
    'code', json_build_object('coding', json_build_array(json_build_object('system', $2::text, 'code', b.code))),
    'for', json_build_object('reference', 'Patient/' || b.patient),
    'authoredOn', ${iso('b.authored')},
    'partOf', CASE WHEN b.part_of IS NOT NULL THEN json_build_array(json_build_object('reference', b.part_of)) END,
    'owner', json_build_object('reference', 'Organization/' || b.team),
    'businessStatus', CASE WHEN b.bstatus IS NOT NULL THEN json_build_object('coding', json_build_array(json_build_object('system', $3::text, 'code', b.bstatus))) END,
    'executionPeriod', CASE WHEN b.ended IS NOT NULL THEN json_build_object('start', ${iso('b.authored')}, 'end', ${iso('b.ended')}) END,
    'restriction', CASE WHEN b.due IS NOT NULL THEN json_build_object('period', json_build_object('end', ${iso('b.due')})) END,
    'output', CASE WHEN b.outcome IS NOT NULL THEN json_build_array(json_build_object(
      'type', json_build_object('coding', json_build_array(json_build_object('system', $4::text, 'code', 'contact-outcome'))),
      'valueCodeableConcept', json_build_object('coding', json_build_array(json_build_object('system', $5::text, 'code', b.outcome))))) END
  ))::text`;
}

async function writeTasks(db: PostgresDatabase): Promise<void> {
  const params = [PATHWAY.taskTeam, PATHWAY.taskCode, PATHWAY.triageStatus, PATHWAY.taskParameterType, CONTACT_OUTCOME.system];
  // the versions of the Tasks whose measures read history: asked (requested), accepted (handovers), and the current one
  const versions = `SELECT b.*, v.status AS v_status, v.at, row_number() OVER (PARTITION BY b.rid ORDER BY v.at, v.ord) AS version, count(*) OVER (PARTITION BY b.rid) AS versions
    FROM bench_task b CROSS JOIN LATERAL (VALUES (1, 'requested', b.authored), (2, 'accepted', b.accepted), (3, b.status, COALESCE(b.last, b.accepted, b.authored))) AS v(ord, status, at)
    WHERE b.code IN ('escalation', 'transfer-of-responsibility') AND v.at IS NOT NULL AND NOT (v.ord = 3 AND v.status IN ('requested', 'accepted'))`;
  await db.query(
    `INSERT INTO resource_version (rid, version_id, type, id, last_updated, deleted, method, content)
     SELECT b.rid, b.version, 'Task', b.id, b.at, false, CASE WHEN b.version = 1 THEN 'POST' ELSE 'PUT' END, ${content('b.v_status', 'b.version', 'b.at')} FROM (${versions}) b`,
    params,
  );
  await db.query(
    `INSERT INTO resource (rid, type, id, version_id, last_updated, content, compartments) OVERRIDING SYSTEM VALUE
     SELECT b.rid, 'Task', b.id, COALESCE(v.n, 1), b.at, ${content('b.status', 'COALESCE(v.n, 1)', 'b.at')},
       ARRAY['Patient/' || b.patient, 'Organization/' || b.team]
     FROM (SELECT *, COALESCE(last, accepted, ended, authored) AS at FROM bench_task) b
     LEFT JOIN (SELECT rid, max(version_id) AS n FROM resource_version GROUP BY rid) v ON v.rid = b.rid`,
    params,
  );
  await db.query(
    `INSERT INTO sp_token (rid, type, param, system, code)
     SELECT rid, 'Task', v.param, v.system, v.code FROM bench_task b, LATERAL (VALUES
       ('code', $1::text, b.code), ('intent', NULL, 'order'), ('priority', NULL, b.priority), ('status', NULL, b.status),
       ('business-status', $2::text, b.bstatus), ('contact-outcome', $3::text, b.outcome)) AS v(param, system, code)
     WHERE v.code IS NOT NULL`,
    [PATHWAY.taskCode, PATHWAY.triageStatus, CONTACT_OUTCOME.system],
  );
  await db.query(
    `INSERT INTO sp_date (rid, type, param, lo, hi)
     SELECT rid, 'Task', v.param, v.lo, v.hi FROM bench_task b, LATERAL (VALUES
       ('authored-on', b.authored, b.authored + interval '999 milliseconds'),
       ('due', b.due, b.due + interval '999 milliseconds'),
       ('period', CASE WHEN b.ended IS NOT NULL THEN b.authored END, b.ended + interval '999 milliseconds')) AS v(param, lo, hi)
     WHERE v.lo IS NOT NULL`,
  );
  await db.query(
    `INSERT INTO sp_reference (rid, type, param, target_type, target_id, last_updated)
     SELECT rid, 'Task', v.param, v.target_type, v.target_id, COALESCE(b.last, b.accepted, b.ended, b.authored) FROM bench_task b, LATERAL (VALUES
       ('team', 'Organization', b.team), ('owner', 'Organization', b.team), ('patient', 'Patient', b.patient), ('subject', 'Patient', b.patient),
       ('part-of', 'Task', substr(b.part_of, 6))) AS v(param, target_type, target_id)
     WHERE v.target_id IS NOT NULL`,
  );
  await db.query(
    `INSERT INTO sp_number (rid, type, param, value)
     SELECT rid, 'Task', 'priority-rank', CASE priority WHEN 'stat' THEN 1 WHEN 'asap' THEN 2 WHEN 'urgent' THEN 3 ELSE 4 END FROM bench_task`,
  );
  // the facts the write path derives from those index rows (store/task-fact.ts): instants as the index's upper bound
  await db.query(
    `INSERT INTO task_fact (rid, id, code, status, priority, business_status, team, owner_type, owner_id, patient, part_of, outcome, authored, due, ended, status_since, created)
     SELECT rid, id, code, status, priority, bstatus, team, 'Organization', team, patient, substr(part_of, 6), outcome,
       authored + interval '999 milliseconds', due + interval '999 milliseconds', ended + interval '999 milliseconds',
       CASE WHEN status = 'accepted' THEN accepted WHEN status IN ('completed', 'failed') THEN COALESCE(last, ended, authored) ELSE authored END, authored
     FROM bench_task`,
  );
  await db.query(
    `INSERT INTO caseload (rid, team, patient)
     SELECT rid, 'Organization/' || team, 'Patient/' || patient FROM bench_task WHERE status NOT IN ('completed', 'cancelled', 'failed', 'entered-in-error', 'rejected')`,
  );
}

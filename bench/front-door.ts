import { randomUUID } from 'node:crypto';
import type { Resource, Task } from '@medplum/fhirtypes';
import { FixedClock, systemClock } from '../src/clock.js';
import { parseSearch } from '../src/fhir/search/parse.js';
import { PATHWAY } from '../src/pathway/codes.js';
import { admitReferral } from '../src/pathway/front-door.js';
import { seedPathwayData } from '../src/pathway/seed-rules.js';
import { migrate } from '../src/store/migrate.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { ResourceStore } from '../src/store/resource-store.js';
import { barsHeaders, FRONT_DOOR_DOS, processor, REFERRAL_CONTEXT, referralMessage } from '../test/messaging/support.js';
import { completeContext, indicator } from '../test/pathway/builders.js';
import { fmt, measure } from './stats.js';
import { dropDatabase, freshDatabase, nhsNumberFor } from './support.js';

const DB_NAME = 'stepwise_bench_front_door';
const TASKS = Number(process.env.BENCH_TASKS ?? 100_000);
const REFERRALS = Number(process.env.BENCH_REFERRALS ?? 3000);
/** Half of the open Tasks wait at the front door (a backlog), the rest are spread over 49 teams. */
const ownerOf = (i: number) => (i % 2 === 0 ? 'front-door-team' : `team-${i % 49}`);

/**
 * The front door on PostgreSQL, in process (no HTTP): referrals triaged per second at concurrency
 * 16, end to end (a BaRS referral message checked, validated and stored, MDS screen, rules, triage
 * Task, clarification Task, Provenance, message log, in one transaction) and the front door alone
 * on stored referrals; then the front-door queue search with TASKS open triage Tasks.
 */
export async function benchFrontDoor(log: (s: string) => void): Promise<Record<string, string>> {
  const dbUrl = await freshDatabase(DB_NAME);
  const db = new PostgresDatabase({ connectionString: dbUrl, poolSize: 20 });
  const out: Record<string, string> = {};
  try {
    await migrate(db);
    const store = new ResourceStore(db, systemClock);
    await seedPathwayData(store);

    const messages = processor(db, new FixedClock(new Date('2026-03-02T09:00:00Z')));
    const send = async (i: number) => {
      const m = referralMessage({ nhsNumber: nhsNumberFor(i), bundleId: randomUUID(), freshUrls: true });
      const res = await messages.process({ body: m, headers: barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT, { requestId: randomUUID() }), async: false, baseUrl: 'http://bench/fhir' });
      if (res.status !== 200) throw new Error(`referral message ${i}: ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
    };
    await measure(200, 8, (i) => send(5_000_000 + i)); // warm-up: validator and FHIRPath caches
    const e2e = await measure(REFERRALS, 16, (i) => send(i));
    out['referrals triaged/s end to end (BaRS message in → triage Task), concurrency 16'] = `${fmt(e2e.perSecond, 0)} /s (p50 ${fmt(e2e.p50, 2)} ms, p99 ${fmt(e2e.p99, 2)} ms)`;
    log(`end to end: ${out['referrals triaged/s end to end (BaRS message in → triage Task), concurrency 16']}`);

    log(`storing ${REFERRALS} referrals for the front door alone…`);
    await measure(REFERRALS, 16, async (i) => {
      const ctx = completeContext({ referral: { id: `bench-sr-${i}`, subject: { reference: `Patient/bench-p-${i}` }, reasonCode: [indicator(['imminent-risk', 'reduced-sleep', 'stable', 'out-of-scope'][i % 4]), indicator('long-term-illness')] }, patient: { id: `bench-p-${i}` } });
      const subject = { reference: `Patient/bench-p-${i}` };
      const related = ctx.related.map((r) => ({ ...r, id: `${r.id}-${i}`, ...('subject' in r ? { subject } : {}), ...('patient' in r ? { patient: subject } : {}) }) as Resource);
      await store.transaction(async (tx) => {
        for (const r of [ctx.patient!, ctx.requester!, ...related, ctx.referral]) await tx.update(r);
      });
    });
    const clock = new FixedClock(new Date('2026-03-02T09:00:00Z'));
    const alone = await measure(REFERRALS, 16, async (i) => {
      await admitReferral(store, { serviceRequestId: `bench-sr-${i}` }, { clock });
    });
    out['referrals triaged/s, front door alone (context, MDS, rules, Task, Provenance), concurrency 16'] = `${fmt(alone.perSecond, 0)} /s (p50 ${fmt(alone.p50, 2)} ms, p99 ${fmt(alone.p99, 2)} ms)`;
    log(`front door alone: ${out['referrals triaged/s, front door alone (context, MDS, rules, Task, Provenance), concurrency 16']}`);

    log(`seeding ${TASKS} open triage Tasks…`);
    const seed = await measure(TASKS, 16, async (i) => {
      await store.create(openTask(i));
    });
    log(`seeded at ${fmt(seed.perSecond, 0)} /s`);
    await db.query('ANALYZE');
    const queue = (owner: (i: number) => string, sort: string) => (i: number) =>
      parseSearch('Task', [
        ['owner', `Organization/${owner(i)}`],
        ['status', 'requested,received,on-hold'],
        ['code', `${PATHWAY.taskCode}|triage`],
        ['_sort', sort],
        ['_count', '20'],
      ]);
    const run = async (runs: number, query: (i: number) => ReturnType<typeof parseSearch>) => {
      await measure(Math.min(50, runs), 1, async (i) => void (await store.search(query(i))));
      return measure(runs, 1, async (i) => {
        const page = await store.search(query(i));
        if (page.matches.length === 0) throw new Error('empty queue');
      });
    };
    const figures: [string, number, (i: number) => ReturnType<typeof parseSearch>][] = [
      [`team queue (${Math.round(TASKS / 98)} open Tasks of ${TASKS}), _sort=-_lastUpdated`, 1000, queue((i) => `team-${1 + (i % 48)}`, '-_lastUpdated')],
      [`front-door queue (${TASKS / 2} open Tasks of ${TASKS}), _sort=-_lastUpdated`, 100, queue(() => 'front-door-team', '-_lastUpdated')],
      [`front-door queue (${TASKS / 2} open Tasks of ${TASKS}), oldest first (_sort=authored-on)`, 100, queue(() => 'front-door-team', 'authored-on')],
    ];
    for (const [name, runs, query] of figures) {
      const r = await run(runs, query);
      const key = `queue search: ${name} (owner, status, code, _count=20; in process, ${runs} runs)`;
      out[key] = `p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms`;
      log(`${key}: ${out[key]}`);
    }
  } finally {
    await db.close();
    await dropDatabase(DB_NAME);
  }
  return out;
}

function openTask(i: number): Task {
  const received = Date.UTC(2026, 0, 1) + i * 60_000;
  return {
    resourceType: 'Task',
    status: i % 3 === 0 ? 'on-hold' : 'requested',
    intent: 'order',
    priority: (['routine', 'urgent', 'stat'] as const)[i % 3],
    code: { coding: [{ system: PATHWAY.taskCode, code: 'triage' }] },
    businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: i % 3 === 0 ? 'awaiting-information' : 'awaiting-triage' }] },
    focus: { reference: `ServiceRequest/queue-sr-${i}` },
    for: { reference: `Patient/queue-p-${i % 20_000}` },
    owner: { reference: `Organization/${ownerOf(i)}` },
    authoredOn: new Date(received).toISOString(),
    restriction: { period: { end: new Date(received + 86_400_000).toISOString() } },
  };
}

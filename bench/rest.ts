import type { Task } from '@medplum/fhirtypes';
import { Agent, request } from 'undici';
import { systemClock } from '../src/clock.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { migrate } from '../src/store/migrate.js';
import { ResourceStore } from '../src/store/resource-store.js';
import { fmt, measure } from './stats.js';
import { dropDatabase, freePort, freshDatabase, nhsNumberFor, startServer, stopServer } from './support.js';

const DB_NAME = 'stepwise_bench';
const TASKS = Number(process.env.BENCH_TASKS ?? 100_000);
const TEAMS = 50;

/**
 * The REST figures of the foundation issue, against a server process on PostgreSQL: creates/s at
 * concurrency 1 and 16, the triage-queue Task search at 100,000 Tasks, 10-entry transactions/s.
 */
export async function benchRest(log: (line: string) => void): Promise<Record<string, string>> {
  const dbUrl = await freshDatabase(DB_NAME);
  const store = new PostgresDatabase({ connectionString: dbUrl, poolSize: 8 });
  await migrate(store);
  const port = await freePort();
  const server = await startServer(dbUrl, port);
  const base = `http://127.0.0.1:${port}/fhir`;
  const agent = new Agent({ connections: 32, pipelining: 1 });
  const post = async (path: string, body: unknown) => {
    const res = await request(`${base}/${path}`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify(body) });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`POST ${path}: ${res.statusCode}`);
  };
  const out: Record<string, string> = {};
  try {
    const patient = (i: number) => ({ resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumberFor(i) }], name: [{ family: `Bench${i}`, given: ['Test'] }], birthDate: '1980-01-01', gender: 'female' });
    await measure(300, 8, (i) => post('Patient', patient(i))); // warm-up
    const c1 = await measure(1000, 1, (i) => post('Patient', patient(i)));
    out['creates/s, concurrency 1'] = `${fmt(c1.perSecond, 0)} /s (p50 ${fmt(c1.p50, 2)} ms, p99 ${fmt(c1.p99, 2)} ms)`;
    log(`creates c=1: ${out['creates/s, concurrency 1']}`);
    const c16 = await measure(5000, 16, (i) => post('Patient', patient(i)));
    out['creates/s, concurrency 16'] = `${fmt(c16.perSecond, 0)} /s (p50 ${fmt(c16.p50, 2)} ms, p99 ${fmt(c16.p99, 2)} ms)`;
    log(`creates c=16: ${out['creates/s, concurrency 16']}`);

    const tx = await measure(300, 4, (i) =>
      post('', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: Array.from({ length: 10 }, (_, j) => ({ resource: task(i * 10 + j), request: { method: 'POST', url: 'Task' } })),
      }),
    );
    out['transactions of 10 entries/s (concurrency 4)'] = `${fmt(tx.perSecond, 0)} /s (p50 ${fmt(tx.p50, 2)} ms, p99 ${fmt(tx.p99, 2)} ms)`;
    log(`transactions: ${out['transactions of 10 entries/s (concurrency 4)']}`);

    log(`seeding ${TASKS} Tasks through the store…`);
    const seedStore = new ResourceStore(store, systemClock);
    const seed = await measure(TASKS, 8, (i) => seedStore.create(task(i)).then(() => undefined));
    log(`seeded at ${fmt(seed.perSecond, 0)} /s`);
    await store.query('ANALYZE');
    const queueQuery = (i: number) => `Task?status=requested&owner=Organization/team-${i % TEAMS}&_sort=-_lastUpdated&_count=20`;
    const get = async (path: string) => {
      const res = await request(`${base}/${path}`, { dispatcher: agent });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode}`);
    };
    await measure(100, 1, (i) => get(queueQuery(i)));
    const qs = await measure(1000, 1, (i) => get(queueQuery(i)));
    out[`queue search at ${TASKS} Tasks (status, owner, -_lastUpdated, _count=20)`] = `p50 ${fmt(qs.p50, 2)} ms, p99 ${fmt(qs.p99, 2)} ms (${fmt(qs.perSecond, 0)} /s sequential)`;
    const qsNoTotal = await measure(1000, 1, (i) => get(`${queueQuery(i)}&_total=none`));
    out[`queue search at ${TASKS} Tasks, _total=none`] = `p50 ${fmt(qsNoTotal.p50, 2)} ms, p99 ${fmt(qsNoTotal.p99, 2)} ms`;
    log(`queue search: ${out[`queue search at ${TASKS} Tasks (status, owner, -_lastUpdated, _count=20)`]}`);
  } finally {
    await agent.close();
    await stopServer(server);
    await store.close();
    await dropDatabase(DB_NAME);
  }
  return out;
}

function task(i: number): Task {
  const statuses = ['requested', 'requested', 'in-progress', 'on-hold', 'completed'] as const;
  return {
    resourceType: 'Task' as const,
    status: statuses[Math.floor(i / TEAMS) % statuses.length],
    intent: 'order',
    priority: i % 7 === 0 ? ('urgent' as const) : ('routine' as const),
    for: { reference: `Patient/p-${i % 5000}` },
    focus: { reference: `ServiceRequest/sr-${i}` },
    owner: { reference: `Organization/team-${i % TEAMS}` },
    authoredOn: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    businessStatus: { coding: [{ system: 'https://stepwise.nhs.uk/CodeSystem/triage-status', code: 'awaiting-triage' }] },
    restriction: { period: { end: new Date(Date.UTC(2026, 0, 2) + i * 60_000).toISOString() } },
  };
}

import type { Task } from '@medplum/fhirtypes';
import type { ChildProcess } from 'node:child_process';
import { Agent, request } from 'undici';
import { systemClock } from '../src/clock.js';
import { PATHWAY, TaskCode } from '../src/pathway/codes.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { migrate } from '../src/store/migrate.js';
import { ResourceStore } from '../src/store/resource-store.js';
import { fmt, measure } from './stats.js';
import { dropDatabase, freePort, freshDatabase, nhsNumberFor, startServer, stopServer } from './support.js';

const DB_NAME = 'stepwise_bench_instances';
const CREATES = Number(process.env.BENCH_INSTANCE_CREATES ?? 4000);
const CLAIMS = Number(process.env.BENCH_INSTANCE_CLAIMS ?? 3000);
const NURSES = 40;

/**
 * Several server instances side by side on one PostgreSQL (README "Running several instances"):
 * creates/s and $claim/s at concurrency 16 against one instance, then against two sharing the
 * load round-robin, on the same database. On this 2-core machine the client, both servers and
 * PostgreSQL share the two cores, so the ratio shows what the design allows, not a cluster's gain.
 */
export async function benchInstances(log: (line: string) => void): Promise<Record<string, string>> {
  const dbUrl = await freshDatabase(DB_NAME);
  const db = new PostgresDatabase({ connectionString: dbUrl, poolSize: 4 });
  await migrate(db);
  const store = new ResourceStore(db, systemClock);
  const agent = new Agent({ connections: 32, pipelining: 1 });
  const out: Record<string, string> = {};
  const servers: ChildProcess[] = [];
  try {
    log(`seeding ${2 * CLAIMS} claimable Tasks…`);
    await measure(2 * CLAIMS, 8, (i) => store.create(openTask(i), 'POST', `claim-${i}`).then(() => undefined));
    // whoever claims must be known (pathway/tasks/operations.ts)
    for (let n = 0; n < NURSES; n++) await store.update({ resourceType: 'Practitioner', id: `nurse-${n}`, name: [{ family: `Nurse ${n}` }] });
    const figures: Record<number, { creates: number; claims: number }> = {};
    for (const instances of [1, 2]) {
      while (servers.length < instances) {
        const port = await freePort();
        const child = await startServer(dbUrl, port);
        (child as ChildProcess & { base?: string }).base = `http://127.0.0.1:${port}/fhir`;
        servers.push(child);
      }
      const bases = servers.map((s) => (s as ChildProcess & { base?: string }).base!);
      const post = async (i: number, path: string, body: unknown) => {
        const res = await request(`${bases[i % bases.length]}/${path}`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify(body) });
        await res.body.dump();
        if (res.statusCode >= 300) throw new Error(`POST ${path}: ${res.statusCode}`);
      };
      const offset = instances * 1_000_000;
      await measure(200, 8, (i) => post(i, 'Patient', patient(offset + CREATES + i))); // warm-up
      const creates = await measure(CREATES, 16, (i) => post(i, 'Patient', patient(offset + i)));
      const first = (instances - 1) * CLAIMS;
      const claims = await measure(CLAIMS, 16, (i) => post(i, `Task/claim-${first + i}/$claim`, claimBy(`Practitioner/nurse-${i % NURSES}`)));
      figures[instances] = { creates: creates.perSecond, claims: claims.perSecond };
      out[`${instances} instance${instances > 1 ? 's' : ''}: creates/s, concurrency 16`] = `${fmt(creates.perSecond, 0)} /s (p99 ${fmt(creates.p99, 1)} ms)`;
      out[`${instances} instance${instances > 1 ? 's' : ''}: $claim/s, concurrency 16`] = `${fmt(claims.perSecond, 0)} /s (p99 ${fmt(claims.p99, 1)} ms)`;
      log(`${instances} instance(s): creates ${fmt(creates.perSecond, 0)} /s, claims ${fmt(claims.perSecond, 0)} /s`);
    }
    out['two instances against one (target ≥ 1.6×)'] = `creates ${fmt(figures[2].creates / figures[1].creates, 2)}×, claims ${fmt(figures[2].claims / figures[1].claims, 2)}×`;
  } finally {
    await agent.close();
    for (const s of servers) await stopServer(s);
    await db.close();
    await dropDatabase(DB_NAME);
  }
  return out;
}

function patient(i: number) {
  return { resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumberFor(i) }], name: [{ family: `Instances${i}` }], birthDate: '1980-01-01' };
}

function openTask(i: number): Task {
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    code: { coding: [{ system: PATHWAY.taskCode, code: TaskCode.triage }] },
    owner: { reference: `Organization/team-${i % 10}` },
    authoredOn: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    restriction: { period: { end: new Date(Date.UTC(2026, 0, 2) + i * 60_000).toISOString() } },
  };
}

function claimBy(practitioner: string) {
  return { resourceType: 'Parameters', parameter: [{ name: 'practitioner', valueReference: { reference: practitioner } }] };
}

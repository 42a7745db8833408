import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Parameters, Task } from '@medplum/fhirtypes';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PATHWAY } from '../../src/pathway/codes.js';
import { barsHeaders, FRONT_DOOR_DOS, headersAsHttp, REFERRAL_CONTEXT, referralMessage } from '../messaging/support.js';
import { TEST_DATABASE_URL } from '../support/databases.js';
import { TestPartner } from '../support/partner.js';
import { freePort } from '../support/ports.js';

const ROOT = new URL('../../', import.meta.url);
/** referralMessage()'s source endpoint: the GP practice the answers go back to. */
const GP_ADDRESS = 'https://fhir.nhs.uk/Id/dos-service-id|2000099999';
const REFERRALS = 6;

interface Running {
  child: ChildProcess;
  url: string;
  exit: Promise<unknown[]>;
}

/** `npm start` as a child process, delivering to the partner with short back-offs and leases. */
async function startStepwise(port: number, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['bin/start.mjs'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      STEPWISE_AUTH: 'off',
      STEPWISE_SCHEDULER: 'off',
      STEPWISE_DELIVERY_INTERVAL_MS: '100',
      STEPWISE_DELIVERY_BACKOFF_MS: '200',
      STEPWISE_DELIVERY_MAX_BACKOFF_MS: '800',
      STEPWISE_DELIVERY_LEASE_SECONDS: '2',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const running = { child, url: `http://127.0.0.1:${port}`, exit: once(child, 'exit') };
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const ready = await fetch(`${running.url}/readyz`).catch(() => undefined);
    if (ready?.status === 200) return running;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Row {
  id: number;
  state: string;
  key: string;
  orderingKey?: string;
  attempts: number;
}

async function outbox(url: string): Promise<Row[]> {
  const body = (await (await fetch(`${url}/fhir/$outbox?_count=1000`)).json()) as Parameters;
  return (body.parameter ?? []).map((m) => {
    const get = (name: string) => m.part!.find((p) => p.name === name);
    return { id: Number(get('id')!.valueString), state: get('state')!.valueCode!, key: get('idempotencyKey')!.valueString!, orderingKey: get('orderingKey')?.valueString, attempts: get('attempts')!.valueInteger! };
  });
}

/** A fresh PostgreSQL database of its own, dropped afterwards. */
async function postgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `stepwise_outage_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

describe.each(['PGlite', 'PostgreSQL'])('outage and recovery, on %s: the partner is down, the server is killed with -9 and restarted, the partner comes back', (database) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-outage-'));
  let running: Running | undefined;
  let drop: (() => Promise<void>) | undefined;
  const partner = new TestPartner();
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exit;
    }
    await partner.close();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every message exactly once (by X-Request-ID) and in order per referral', async () => {
    // the partner's port is known, and nothing listens on it: it is down
    await partner.listen();
    const partnerPort = partner.port;
    await partner.close();
    let env: Record<string, string> = { DATA_DIR: dataDir };
    if (database === 'PostgreSQL') {
      const pgdb = await postgresDatabase();
      drop = pgdb.drop;
      env = { DATABASE_URL: pgdb.url };
    }
    env.STEPWISE_PARTNERS = JSON.stringify([{ id: 'beech-house', endpoint: `http://127.0.0.1:${partnerPort}/fhir`, addresses: [GP_ADDRESS], timeoutSeconds: 1 }]);
    const port = await freePort();
    running = await startStepwise(port, env);

    // referrals by BaRS, answered asynchronously: each queues its answer and the request for missing information
    for (let i = 0; i < REFERRALS; i++) {
      const res = await fetch(`${running.url}/fhir/$process-message?async=true`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json', ...headersAsHttp(barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT)) },
        body: JSON.stringify(referralMessage({ freshUrls: true })),
      });
      expect(res.status).toBe(202);
    }
    // half of them are triaged: each queues its acceptance, behind the referral's earlier messages
    const tasks = (await (await fetch(`${running.url}/fhir/Task?code=${encodeURIComponent(`${PATHWAY.taskCode}|triage`)}&_count=100`)).json()) as Bundle;
    const triage = (tasks.entry ?? []).map((e) => e.resource as Task);
    expect(triage).toHaveLength(REFERRALS);
    for (const task of triage.slice(0, REFERRALS / 2)) {
      const res = await fetch(`${running.url}/fhir/Task/${task.id}/$complete`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [{ name: 'output', part: [{ name: 'type', valueCodeableConcept: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] } }, { name: 'value', valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: 'routine-support' }] } }] }],
        }),
      });
      expect(res.status).toBe(200);
    }
    const queued = await outbox(running.url);
    expect(queued).toHaveLength(REFERRALS * 2 + REFERRALS / 2);

    // the server has tried the partner, which is down, and is backing off
    await until('a failed attempt', async () => ((await outbox(running!.url)).some((r) => r.attempts > 0) ? true : undefined));
    expect(partner.received).toHaveLength(0);

    running.child.kill('SIGKILL');
    await running.exit;
    running = await startStepwise(port, env);
    // nothing was lost with the process
    expect((await outbox(running.url)).map((r) => r.key).sort()).toEqual(queued.map((r) => r.key).sort());

    await partner.listen(partnerPort);
    const delivered = await until('every message delivered', async () => {
      const rows = await outbox(running!.url);
      return rows.every((r) => r.state === 'delivered') ? rows : undefined;
    });

    // exactly once: every X-Request-ID arrived, none twice
    const keys = partner.received.map((r) => r.requestId);
    expect(keys.sort()).toEqual(delivered.map((r) => r.key).sort());
    // in order per referral: the outbox's order (its ids) is the order of arrival
    const arrival = new Map(partner.received.map((r, i) => [r.requestId, i]));
    const byReferral = new Map<string, Row[]>();
    for (const r of delivered) if (r.orderingKey) byReferral.set(r.orderingKey, [...(byReferral.get(r.orderingKey) ?? []), r]);
    expect(byReferral.size).toBe(REFERRALS);
    for (const rows of byReferral.values()) {
      const order = rows.sort((a, b) => a.id - b.id).map((r) => arrival.get(r.key)!);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    // and what arrived first for each referral is the answer to its message, then the request for information
    for (const rows of byReferral.values()) {
      const bodies = rows.map((r) => JSON.parse(partner.received[arrival.get(r.key)!].body) as Bundle);
      expect(bodies[0].entry![0].resource).toMatchObject({ eventCoding: { code: 'servicerequest-request' }, response: { code: 'ok' } });
      expect(bodies[1].entry![0].resource).toMatchObject({ eventCoding: { code: 'servicerequest-response' } });
    }

    // a graceful stop waits for the delivery run under way, then closes the database
    running.child.kill('SIGTERM');
    expect((await running.exit)[0]).toBe(0);
  });
});

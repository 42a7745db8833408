import { randomUUID } from 'node:crypto';
import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOutbox } from '../../src/cli/outbox-command.js';
import { enqueue, listOutbox, readOutboxRow } from '../../src/delivery/outbox.js';
import type { Database } from '../../src/store/database.js';
import { startAuthApp, testKey, userToken, type AuthTestApp, type TestKey } from '../security/support.js';
import { startTestApp, type TestApp } from '../support/app.js';

const part = (p: Parameters['parameter'] & object, name: string) => p.find((x) => x.name === name);

interface SeededRows {
  dead: string;
  delivered: string;
}

/** Two rows: one dead (with its error), one delivered. */
async function seedRows(db: Database, now: Date): Promise<SeededRows> {
  const base = { topic: 'bars-triage-outcome', partner: 'https://fhir.nhs.uk/Id/dos-service-id|2000099999', contentType: 'application/fhir+json', payload: '{"secret":"patient data"}' };
  await enqueue(db, [{ ...base, idempotencyKey: randomUUID(), orderingKey: 'ServiceRequest/a' }, { ...base, idempotencyKey: randomUUID() }], now);
  const [a, b] = await listOutbox(db);
  await db.query(`UPDATE outbox SET state = 'dead', attempts = 9, last_status = 503, last_error = 'answered 503 (retried 9 times, past the retry horizon)' WHERE id = $1::bigint`, [a.id]);
  await db.query(`UPDATE outbox SET state = 'delivered', attempts = 1, last_status = 200 WHERE id = $1::bigint`, [b.id]);
  return { dead: a.id, delivered: b.id };
}

/** A test app holding the two rows of seedRows. */
async function startWithRows(): Promise<{ app: TestApp; ids: SeededRows }> {
  const app = await startTestApp();
  try {
    return { app, ids: await seedRows(app.t.db, app.clock.now()) };
  } catch (err) {
    await app.close();
    throw err;
  }
}

describe('operators list and replay dead letters over HTTP ($outbox, $outbox-replay)', () => {
  let app: TestApp;
  let ids: SeededRows;
  beforeAll(async () => ({ app, ids } = await startWithRows()));
  afterAll(() => app?.close());

  it('lists by state, without payloads, and refuses a bad parameter at its name', async () => {
    const res = await app.fhir('GET', '$outbox?state=dead');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Parameters;
    expect(body.parameter).toHaveLength(1);
    const m = body.parameter![0].part!;
    expect(part(m, 'id')?.valueString).toBe(ids.dead);
    expect(part(m, 'state')?.valueCode).toBe('dead');
    expect(part(m, 'attempts')?.valueInteger).toBe(9);
    expect(part(m, 'lastError')?.valueString).toContain('past the retry horizon');
    expect(part(m, 'orderingKey')?.valueString).toBe('ServiceRequest/a');
    expect(JSON.stringify(body)).not.toContain('patient data');
    expect(((await (await app.fhir('GET', '$outbox')).json()) as Parameters).parameter).toHaveLength(2);
    // paging by id: after the last id seen, and at most _count
    const page = ((await (await app.fhir('GET', `$outbox?after=${ids.dead}&_count=1`)).json()) as Parameters).parameter!;
    expect(page.map((m) => part(m.part!, 'id')?.valueString)).toEqual([ids.delivered]);
    expect(((await (await app.fhir('GET', '$outbox?_count=1')).json()) as Parameters).parameter).toHaveLength(1);
    expect((await app.fhir('GET', '$outbox?_count=0')).status).toBe(400);

    const bad = await app.fhir('GET', '$outbox?state=lost');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as OperationOutcome).issue[0].expression).toEqual(['state']);
    const unknown = await app.fhir('GET', '$outbox?status=dead');
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as OperationOutcome).issue[0].expression).toEqual(['status']);
  });

  const metric = async (name: string) => {
    const text = await (await app.app.request('http://stepwise.test/metrics')).text();
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  };

  it('/metrics shows the backlog and the dead letters', async () => {
    expect(await metric('stepwise_outbox_queued_messages')).toBe(0);
    expect(await metric('stepwise_outbox_dead_messages')).toBe(1);
  });

  it('replays a dead message: pending and due now; anything but a dead message is 404', async () => {
    const res = await app.fhir('POST', '$outbox-replay', { resourceType: 'Parameters', parameter: [{ name: 'id', valueString: ids.dead }] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Parameters).parameter).toEqual([{ name: 'replayed', valueString: ids.dead }]);
    const row = await readOutboxRow(app.t.db, ids.dead);
    expect(row).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: app.clock.now().toISOString() });
    expect(await metric('stepwise_outbox_queued_messages')).toBe(1);
    expect(await metric('stepwise_outbox_dead_messages')).toBe(0);

    const again = await app.fhir('POST', `$outbox-replay?id=${ids.dead}`);
    expect(again.status).toBe(404);
    const delivered = await app.fhir('POST', `$outbox-replay?id=${ids.delivered}`);
    expect(delivered.status).toBe(404);
    expect(((await delivered.json()) as OperationOutcome).issue[0].diagnostics).toContain(`No dead outbox message ${ids.delivered}`);
    const none = await app.fhir('POST', '$outbox-replay', { resourceType: 'Parameters' });
    expect(none.status).toBe(400);
    expect(((await none.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'required', expression: ["Parameters.parameter.where(name = 'id')"] });
  });
});

describe('with authentication on, only the stepwise/admin scope sees the outbox', () => {
  let app: AuthTestApp;
  let key: TestKey;
  beforeAll(async () => {
    key = await testKey('ES384');
    app = await startAuthApp({ idpKeys: [key], serverKey: await testKey('ES384') });
    await seedRows(app.t.db, app.clock.now());
  });
  afterAll(() => app?.close());

  it('403 without it, 200 with it; 401 without a token', async () => {
    const clinician = await userToken(key, 'user/*.cruds', { teams: ['*'] });
    const admin = await userToken(key, 'user/*.cruds stepwise/admin', { teams: ['*'] });
    const denied = await app.as(clinician, 'GET', '$outbox?state=dead');
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as OperationOutcome).issue[0].diagnostics).toContain('stepwise/admin');
    expect((await app.as(clinician, 'POST', '$outbox-replay?id=1')).status).toBe(403);
    expect((await app.as(admin, 'GET', '$outbox?state=dead')).status).toBe(200);
    expect((await app.fhir('GET', '$outbox?state=dead')).status).toBe(401);
  });
});

describe('the CLI: stepwise outbox list | replay', () => {
  let app: TestApp;
  let ids: SeededRows;
  beforeAll(async () => ({ app, ids } = await startWithRows()));
  afterAll(() => app?.close());

  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    // the CLI closes what it opens: give it a handle whose close leaves the test's database open
    const db = { ...app.t.db, query: app.t.db.query.bind(app.t.db), close: async () => undefined } as Database;
    const code = await runOutbox(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) }, async () => db, app.clock);
    return { code, out: out.join(''), err: err.join('') };
  };

  it('lists the dead letters with their error, and a count per state', async () => {
    const r = await run('list', '--state', 'dead');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${ids.dead}\\tdead\\tbars-triage-outcome\\t.*attempts 9.*past the retry horizon`));
    expect(lines[1]).toBe('1 shown; 0 pending, 0 delivering, 1 delivered, 1 dead');
    const json = await run('list', '--json');
    expect(json.out.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([ids.dead, ids.delivered]);
    expect((await run('list', '--state', 'lost')).code).toBe(2);
    expect((await run('purge')).code).toBe(2);
  });

  it('purges delivered messages delivered before a date, never dead or pending ones', async () => {
    const when = app.clock.now();
    await app.t.db.query(`UPDATE outbox SET delivered_at = $2::timestamptz WHERE id = $1::bigint`, [ids.delivered, new Date(when.getTime() - 86_400_000).toISOString()]);
    expect((await run('purge')).code).toBe(2);
    expect((await run('purge', '--delivered-before', 'yesterday')).code).toBe(2);
    const early = await run('purge', '--delivered-before', new Date(when.getTime() - 2 * 86_400_000).toISOString());
    expect(early.out).toMatch(/^purged 0 messages/);
    const r = await run('purge', '--delivered-before', when.toISOString().slice(0, 10) + 'T23:59:59Z');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^purged 1 messages delivered before/);
    expect(await readOutboxRow(app.t.db, ids.delivered)).toBeUndefined();
    expect((await readOutboxRow(app.t.db, ids.dead))?.state).toBe('dead');
  });

  it('replays a dead message, and says which ids were not dead', async () => {
    const r = await run('replay', ids.dead, ids.delivered);
    expect(r.code).toBe(1);
    expect(r.out).toBe(`replayed ${ids.dead}: pending, due now\n`);
    expect(r.err).toContain(`${ids.delivered}: no dead outbox message`);
    expect((await readOutboxRow(app.t.db, ids.dead))?.state).toBe('pending');
    expect((await run('replay')).code).toBe(2);
  });
});

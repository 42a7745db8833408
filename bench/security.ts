import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { Agent, request } from 'undici';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { migrate } from '../src/store/migrate.js';
import { fmt, measure, type RunStats } from './stats.js';
import { dropDatabase, freePort, freshDatabase, nhsNumberFor, startServer, stopServer } from './support.js';

/*
 * The cost of authentication and of the audit trail (issue 13: "creates and searches at
 * concurrency 16, with and without, in the same run; target within 15 %"). Three servers on
 * PostgreSQL, each on a fresh database, the same workload against each:
 *
 *   baseline   STEPWISE_AUTH=off, audit rows discarded
 *   audit      STEPWISE_AUTH=off, the audit trail as in production
 *   production STEPWISE_AUTH=on (a registered client's bearer token on every request) and the audit trail
 *
 * The audit trail cannot be turned off, in production or anywhere else: no setting exists for it,
 * and none is added for a benchmark. "Without audit" is measured in the bench's own database
 * instead: a BEFORE INSERT trigger discards every audit_event row. So the baseline still builds
 * each AuditEvent and sends its statement (for a read, the middleware's extra round trip to the
 * database); what it saves is what storing the trail costs: the heap row, its four indexes and its
 * WAL. The audit figure is therefore the trail's storage cost, a lower bound on the whole.
 * Each mode runs twice (ABCCBA) and its figures are the mean of the two.
 */

const DB_NAME = 'stepwise_bench_security';
const CREATES = Number(process.env.BENCH_SECURITY_CREATES ?? 4000);
const SEARCHES = Number(process.env.BENCH_SECURITY_SEARCHES ?? 4000);
const CONCURRENCY = 16;
const FAMILIES = 500;

type Mode = 'baseline' | 'audit' | 'production';

interface ModeFigures {
  creates: RunStats;
  search: RunStats;
}

export async function benchSecurity(log: (line: string) => void): Promise<Record<string, string>> {
  // each mode twice, in mirrored order (ABCCBA), and the mean of the two: whatever else the
  // machine does drifts over the run, and a mode measured only first or only last would carry it
  const runs = new Map<Mode, ModeFigures[]>();
  for (const mode of ['baseline', 'audit', 'production', 'production', 'audit', 'baseline'] as const) {
    runs.set(mode, [...(runs.get(mode) ?? []), await runMode(mode, log)]);
  }
  return report(new Map([...runs].map(([mode, list]) => [mode, meanOf(list)])));
}

async function runMode(mode: Mode, log: (line: string) => void): Promise<ModeFigures> {
  const dbUrl = await freshDatabase(DB_NAME);
  const db = new PostgresDatabase({ connectionString: dbUrl, poolSize: 2 });
  await migrate(db);
  if (mode === 'baseline') await discardAuditRows(db);
  const port = await freePort();
  const client = mode === 'production' ? await registeredClient() : undefined;
  const server = await startServer(dbUrl, port, client ? client.env : {});
  const base = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 32, pipelining: 1 });
  try {
    const auth: Record<string, string> = client ? { authorization: `Bearer ${await client.token(base, agent)}` } : {};
    const post = async (i: number) => {
      const res = await request(`${base}/fhir/Patient`, { method: 'POST', dispatcher: agent, headers: { ...auth, 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify(patient(i)) });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`${mode}: POST Patient ${res.statusCode}`);
    };
    const search = async (i: number) => {
      const res = await request(`${base}/fhir/Patient?family=Bench${i % FAMILIES}&_count=20`, { dispatcher: agent, headers: auth });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`${mode}: search ${res.statusCode}`);
    };
    await measure(300, CONCURRENCY, (i) => post(CREATES + i)); // warm-up
    const creates = await measure(CREATES, CONCURRENCY, post);
    await db.query('ANALYZE');
    await measure(300, CONCURRENCY, search); // warm-up
    const searched = await measure(SEARCHES, CONCURRENCY, search);
    log(`${mode}: creates ${fmt(creates.perSecond, 0)} /s, search p50 ${fmt(searched.p50, 2)} ms p99 ${fmt(searched.p99, 2)} ms`);
    return { creates, search: searched };
  } finally {
    await agent.close();
    await stopServer(server);
    await db.close();
    await dropDatabase(DB_NAME);
  }
}

function meanOf(list: ModeFigures[]): ModeFigures {
  const mean = (pick: (f: ModeFigures) => RunStats): RunStats => {
    const avg = (key: keyof RunStats) => list.reduce((sum, f) => sum + pick(f)[key], 0) / list.length;
    return { count: avg('count'), perSecond: avg('perSecond'), p50: avg('p50'), p99: avg('p99') };
  };
  return { creates: mean((f) => f.creates), search: mean((f) => f.search) };
}

/** The bench's "without audit": its own database throws audit rows away (see the comment at the top). */
async function discardAuditRows(db: PostgresDatabase): Promise<void> {
  await db.query(`CREATE FUNCTION bench_discard_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`);
  await db.query(`CREATE TRIGGER bench_discard_audit BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION bench_discard_audit()`);
}

/** A client registered as a deployment would (STEPWISE_CLIENTS, STEPWISE_TOKEN_KEY), and how it gets a token: SMART Backend Services. */
async function registeredClient(): Promise<{ env: Record<string, string>; token: (base: string, agent: Agent) => Promise<string> }> {
  const clientKey = await generateKeyPair('ES384', { extractable: true });
  const serverKey = await generateKeyPair('ES384', { extractable: true });
  const kid = 'bench-client';
  const clients = [{ clientId: 'bench-system', jwks: { keys: [{ ...(await exportJWK(clientKey.publicKey)), kid, alg: 'ES384' }] }, scopes: 'system/*.cruds', teams: ['*'] }];
  const env = {
    STEPWISE_AUTH: 'on',
    STEPWISE_CLIENTS: JSON.stringify(clients),
    STEPWISE_TOKEN_KEY: JSON.stringify({ ...(await exportJWK(serverKey.privateKey)), kid: 'bench-server' }),
    STEPWISE_TOKEN_LIFETIME_SECONDS: '3600',
  };
  return { env, token: (base, agent) => fetchToken(base, agent, clientKey.privateKey, kid) };
}

async function fetchToken(base: string, agent: Agent, key: CryptoKey, kid: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ iss: 'bench-system', sub: 'bench-system', aud: `${base}/auth/token`, jti: randomUUID(), iat: now, exp: now + 240 })
    .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
    .sign(key);
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope: 'system/*.cruds' });
  const res = await request(`${base}/auth/token`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  const body = (await res.body.json()) as { access_token?: string; error_description?: string };
  if (res.statusCode !== 200 || !body.access_token) throw new Error(`token endpoint: ${res.statusCode} ${body.error_description ?? ''}`);
  return body.access_token;
}

function patient(i: number) {
  return { resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumberFor(i, 600_000_000) }], name: [{ family: `Bench${i % FAMILIES}`, given: ['Test'] }], birthDate: '1980-01-01', gender: 'female' };
}

function report(figures: Map<Mode, ModeFigures>): Record<string, string> {
  const base = figures.get('baseline')!;
  const out: Record<string, string> = {};
  const line = (f: ModeFigures) => `creates ${fmt(f.creates.perSecond, 0)} /s (p50 ${fmt(f.creates.p50, 2)} ms, p99 ${fmt(f.creates.p99, 2)} ms); search p50 ${fmt(f.search.p50, 2)} ms, p99 ${fmt(f.search.p99, 2)} ms (${fmt(f.search.perSecond, 0)} /s)`;
  const cost = (f: ModeFigures) =>
    `creates/s ${signed(f.creates.perSecond / base.creates.perSecond - 1)}, search p50 ${signed(f.search.p50 / base.search.p50 - 1)}, p99 ${signed(f.search.p99 / base.search.p99 - 1)}`;
  out[`baseline: auth off, audit rows discarded (concurrency ${CONCURRENCY})`] = line(base);
  out['auth off, audit on'] = line(figures.get('audit')!);
  out['auth on (client bearer token), audit on'] = line(figures.get('production')!);
  out['cost of audit (audit vs baseline)'] = cost(figures.get('audit')!);
  out['cost of auth (auth on vs off, both audited)'] = `creates/s ${signed(figures.get('production')!.creates.perSecond / figures.get('audit')!.creates.perSecond - 1)}, search p50 ${signed(figures.get('production')!.search.p50 / figures.get('audit')!.search.p50 - 1)}, p99 ${signed(figures.get('production')!.search.p99 / figures.get('audit')!.search.p99 - 1)}`;
  out['cost of auth and audit together (target: within 15 %)'] = cost(figures.get('production')!);
  return out;
}

const signed = (ratio: number) => `${ratio >= 0 ? '+' : ''}${fmt(ratio * 100, 1)} %`;

import { Agent, request } from 'undici';
import { systemClock } from '../src/clock.js';
import { PATHWAY } from '../src/pathway/codes.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { migrate } from '../src/store/migrate.js';
import { ResourceStore } from '../src/store/resource-store.js';
import { loadTasks } from './queue.js';
import { fmt, measure } from './stats.js';
import { dropDatabase, freePort, freshDatabase, startServer, stopServer } from './support.js';

const DB_NAME = 'stepwise_bench_pages';
/** Open Tasks in the database (BENCH_PAGES_TASKS=10000 for a quick try; the issue asks for 100,000). */
const TASKS = Number(process.env.BENCH_PAGES_TASKS ?? 100_000);
/** Pages fetched per figure, after as many to warm up (BENCH_PAGES_REQUESTS). */
const REQUESTS = Number(process.env.BENCH_PAGES_REQUESTS ?? 500);
const TEAMS = 10;
const BATCH = 50_000;
const OPEN = 'requested,received,accepted,ready,in-progress,on-hold';

/**
 * The triage pages (issue 16): the queue page's time at the server, signed in as a nurse of one of
 * ten teams sharing the open Tasks, against `npm start` on PostgreSQL. Each request is the whole
 * page: the session read, the team's Organizations, the queue search from the task_queue index
 * (25 rows with their people and holders included) and the HTML rendered with hono/jsx. Timed at
 * the client on the loopback, one request at a time, so it is the server's time plus a loopback
 * round trip (about 0.1 ms).
 */
export async function benchPages(log: (line: string) => void): Promise<Record<string, string>> {
  const dbUrl = await freshDatabase(DB_NAME);
  const db = new PostgresDatabase({ connectionString: dbUrl, poolSize: 4 });
  await migrate(db);
  const store = new ResourceStore(db, systemClock);
  await store.update({ resourceType: 'Practitioner', id: 'nurse-bench', name: [{ given: ['Bench'], family: 'Nurse' }] });
  for (let i = 0; i < TEAMS; i++) {
    await store.update({ resourceType: 'Organization', id: `team-${i}`, name: `Team ${i}`, identifier: [{ system: PATHWAY.teamId, value: `team-${i}` }] });
  }
  const t0 = performance.now();
  for (let loaded = 0; loaded < TASKS; loaded += Math.min(BATCH, TASKS - loaded)) await loadTasks(db, loaded, Math.min(BATCH, TASKS - loaded));
  await db.query('ANALYZE');
  log(`${TASKS} open Tasks loaded in ${fmt((performance.now() - t0) / 1000, 0)} s`);
  const port = await freePort();
  const server = await startServer(dbUrl, port);
  const base = `http://127.0.0.1:${port}/app`;
  const agent = new Agent({ connections: 4, pipelining: 1 });
  const out: Record<string, string> = {};
  try {
    const cookie = await signIn(agent, base, 'team-0');
    for (const [name, path] of [
      ['queue page (all open work), first page', '/queue'],
      ['queue page, overdue', '/queue?view=overdue'],
      ['queue page, on hold', '/queue?view=on-hold'],
    ] as const) {
      await measure(REQUESTS, 1, () => get(agent, `${base}${path}`, cookie));
      const m = await measure(REQUESTS, 1, () => get(agent, `${base}${path}`, cookie));
      out[`${name} at ${TASKS} open Tasks (25 rows)`] = `p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms`;
      log(`${name}: p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms`);
    }
    // what the page adds: the same search over the FHIR API, as JSON, with and without the includes
    const search = `http://127.0.0.1:${port}/fhir/Task?team=Organization/team-0&status=${OPEN}&_sort=priority-rank,due&_count=25`;
    for (const [name, url] of [
      ['the same search over the FHIR API (JSON, with the includes)', `${search}&_include=Task:patient&_include=Task:owner:Practitioner`],
      ['the same search over the FHIR API (JSON, no includes)', search],
    ] as const) {
      await measure(REQUESTS, 1, () => get(agent, url, ''));
      const m = await measure(REQUESTS, 1, () => get(agent, url, ''));
      out[`for comparison: ${name} at ${TASKS} open Tasks`] = `p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms`;
      log(`${name}: p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms`);
    }
  } finally {
    await agent.close();
    await stopServer(server);
    await db.close();
    await dropDatabase(DB_NAME);
  }
  return out;
}

/** Signs in as the development principal's nurse for `team`: the session cookie. */
async function signIn(agent: Agent, base: string, team: string): Promise<string> {
  const form = await request(`${base}/sign-in`, { dispatcher: agent });
  const html = await form.body.text();
  const signInCookie = cookiesOf(form.headers['set-cookie']);
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1];
  const res = await request(`${base}/sign-in`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: signInCookie },
    body: new URLSearchParams({ csrf, practitioner: 'Practitioner/nurse-bench', team }).toString(),
  });
  await res.body.dump();
  if (res.statusCode !== 303) throw new Error(`sign-in: ${res.statusCode}`);
  return cookiesOf(res.headers['set-cookie']);
}

function cookiesOf(header: string | string[] | undefined): string {
  return [header ?? []].flat().map((c) => c.split(';')[0]).join('; ');
}

async function get(agent: Agent, url: string, cookie: string): Promise<void> {
  const res = await request(url, { dispatcher: agent, headers: { cookie } });
  const body = await res.body.text();
  const isPage = url.includes('/app/');
  if (res.statusCode !== 200 || (isPage && !body.includes('id="queue"') && !body.includes('id="queue-empty"'))) throw new Error(`GET ${url}: ${res.statusCode}`);
}

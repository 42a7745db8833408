import type { Resource } from '@medplum/fhirtypes';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offeringRoutes } from '../../src/http/fhir-router.js';
import { PATHWAY_TEAMS } from '../../src/pathway/seed-rules.js';
import { listen } from '../support/app.js';
import { postgresTestDatabase } from '../support/databases.js';
import { clientAssertion, startAuthApp, testKey, tokenForm, userToken, type AuthTestApp, type TestKey, teamTask as task } from '../security/support.js';

/**
 * Issue 13's "Done when", as a black box: the server with STEPWISE_AUTH=on on a real socket, on
 * PostgreSQL, driven over HTTP only. Team A is the CMHT (its person: Avery), team B the crisis
 * team (its person: Brook). Nothing of Brook may reach team A by any route.
 */
let app: AuthTestApp;
let server: Awaited<ReturnType<typeof listen>>;
let idpKey: TestKey;
let gpKey: TestKey;

const DATA = [
  ...PATHWAY_TEAMS,
  { resourceType: 'Patient', id: 'pa', name: [{ family: 'Avery' }] },
  { resourceType: 'Patient', id: 'pb', name: [{ family: 'Brook' }] },
  { resourceType: 'Observation', id: 'obs-b', status: 'final', code: { text: 'Brook-mood' }, subject: { reference: 'Patient/pb' } },
  { resourceType: 'ServiceRequest', id: 'sr-b', status: 'active', intent: 'order', subject: { reference: 'Patient/pb' }, note: [{ text: 'Brook referral' }] },
  task('task-a', 'pa', 'cmht'),
  task('task-b', 'pb', 'crisis-team', { focus: { reference: 'ServiceRequest/sr-b' }, description: 'Brook task' }),
] as Resource[];

/** One HTTP request to the server, as a client on the network sends it (Host: the name tokens are issued for). */
async function http(method: string, path: string, opts: { token?: string; body?: unknown; form?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { host: 'stepwise.test', accept: 'application/fhir+json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/fhir+json';
    body = JSON.stringify(opts.body);
  }
  const res = await request(`${server.url}${path}`, { method: method as 'GET', headers, body });
  return { status: res.statusCode, text: await res.body.text() };
}

const B_IDS = ['Patient/pb', 'Observation/obs-b', 'ServiceRequest/sr-b', 'Task/task-b'];

/** `Type/id` of every resource an answer holds, at any depth (Bundles, batch responses, Parameters), but not OperationOutcomes. */
function resourcesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => resourcesIn(v, out));
  else if (value && typeof value === 'object') {
    const r = value as { resourceType?: string; id?: string };
    if (r.resourceType && r.resourceType !== 'OperationOutcome' && r.id) out.push(`${r.resourceType}/${r.id}`);
    Object.values(value).forEach((v) => resourcesIn(v, out));
  }
  return out;
}

const concrete = (pattern: string) => pattern.replace(':type', 'Patient').replace(':id', 'pa').replace(':vid', '1');

beforeAll(async () => {
  [idpKey, gpKey] = await Promise.all([testKey('ES384'), testKey('RS384')]);
  const clients = [{ clientId: 'gp-system', jwks: { keys: [gpKey.publicJwk] }, scopes: 'system/Task.rs system/Patient.rs', organisation: 'A83627', teams: ['*'] }];
  app = await startAuthApp({ open: () => postgresTestDatabase(10), idpKeys: [idpKey], clients, serverKey: await testKey('ES384') });
  for (const r of DATA) await app.store.update(r);
  server = await listen(app.app);
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

describe('issue 13 black box: auth on, real socket, PostgreSQL', () => {
  it('no request without a valid token succeeds, on any route of the API, except the CapabilityStatement and discovery', async () => {
    const expired = await userToken(idpKey, 'user/*.cruds', { teams: ['*'] }, -60);
    const forged = await userToken(await testKey('ES384'), 'user/*.cruds', { teams: ['*'] });
    for (const { method, pattern } of offeringRoutes) {
      const path = `/fhir/${concrete(pattern)}`;
      const body = method === 'GET' || method === 'DELETE' ? undefined : { resourceType: 'Parameters' };
      for (const token of [undefined, expired, forged]) {
        const res = await http(method, path, { token, body });
        // the CapabilityStatement needs no token, but a token given must be valid (RFC 6750 §3.1)
        if (pattern === 'metadata' && !token) expect(res.status, path).toBe(200);
        else expect(res.status, `${method} ${path} ${token ? 'bad token' : 'no token'}`).toBe(401);
      }
    }
    expect((await http('GET', '/.well-known/smart-configuration')).status).toBe(200);
    expect((await http('GET', '/fhir/.well-known/smart-configuration')).status).toBe(200);
  });

  it("a token for team A reads nothing of team B, by any route", async () => {
    const a = await userToken(idpKey, 'user/*.cruds', { teams: ['cmht'] });
    const routes: [string, string, unknown?][] = [
      ['GET', '/fhir/Patient/pb'],
      ['GET', '/fhir/Patient/pb/_history/1'],
      ['GET', '/fhir/Patient/pb/_history'],
      ['GET', '/fhir/Patient/_history'],
      ['GET', '/fhir/_history'],
      ['GET', '/fhir/Patient'],
      ['GET', '/fhir/Observation?subject=Patient/pb'],
      ['GET', '/fhir/Observation?subject.name=brook'],
      ['GET', '/fhir/Patient?_has:Observation:subject:code:text=brook'],
      ['GET', '/fhir/Task?_include=Task:patient&_include=Task:focus'],
      ['GET', '/fhir/Patient?_revinclude=Observation:subject&_revinclude=Task:patient'],
      ['GET', '/fhir/ServiceRequest/sr-b'],
      ['GET', '/fhir/ServiceRequest'],
      ['GET', '/fhir/Task/task-b'],
      ['GET', '/fhir/AuditEvent?patient=Patient/pb'],
      ['GET', '/fhir/PlanDefinition/stepwise-triage/$apply?subject=ServiceRequest/sr-b'],
      ['POST', '/fhir/Observation/obs-b/$validate', { resourceType: 'Parameters' }],
      ['POST', '/fhir/Task/task-b/$claim', { resourceType: 'Parameters' }],
      ['POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/pb' } }, { request: { method: 'GET', url: 'Observation?subject=Patient/pb' } }] }],
      ['POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: 'Task/task-b' } }] }],
    ];
    for (const [method, path, body] of routes) {
      const res = await http(method, path, { token: a, body });
      expect(res.status, path).toBeLessThan(500);
      // every resource of team B carries "Brook" in its content; a 404 may echo the id it was asked for
      expect(res.text, `${method} ${path}`).not.toMatch(/Brook/);
      if (res.status === 200) expect(resourcesIn(JSON.parse(res.text)).filter((id) => B_IDS.includes(id)), `${method} ${path}`).toEqual([]);
    }
    // the same searches do find team B's person for one who sees every team: the routes above were not empty by accident
    const all = await userToken(idpKey, 'user/*.cruds', { teams: ['*'] });
    for (const path of ['/fhir/Observation?subject.name=brook', '/fhir/Patient?_has:Observation:subject:code:text=brook', '/fhir/Patient/pb/_history']) {
      expect((await http('GET', path, { token: all })).text, path).toMatch(/Brook/);
    }
    // and team A does read its own
    expect((await http('GET', '/fhir/Patient/pa', { token: a })).text).toContain('Avery');
  });

  it('scopes narrow what a token can do: Task.rs reads Tasks and cannot write one', async () => {
    const readOnly = await userToken(idpKey, 'user/Task.rs', { teams: ['cmht'] });
    expect((await http('GET', '/fhir/Task/task-a', { token: readOnly })).status).toBe(200);
    expect((await http('POST', '/fhir/Task', { token: readOnly, body: task('new', 'pa', 'cmht') })).status).toBe(403);
    expect((await http('PUT', '/fhir/Task/task-a', { token: readOnly, body: task('task-a', 'pa', 'cmht') })).status).toBe(403);
    expect((await http('DELETE', '/fhir/Task/task-a', { token: readOnly })).status).toBe(403);
    expect((await http('POST', '/fhir/Task/task-a/$claim', { token: readOnly, body: { resourceType: 'Parameters' } })).status).toBe(403);
    expect((await http('GET', '/fhir/Patient/pa', { token: readOnly })).status).toBe(403);
  });

  it('a replayed client assertion is refused', async () => {
    const form = tokenForm(await clientAssertion(gpKey, 'gp-system'), 'system/Task.rs');
    const first = await http('POST', '/auth/token', { form });
    expect(first.status).toBe(200);
    const again = await http('POST', '/auth/token', { form });
    expect([400, 401]).toContain(again.status);
    expect(JSON.parse(again.text).error_description).toContain('jti');
  });

  it('every request leaves exactly one AuditEvent, refused and public ones too', async () => {
    const auditor = await userToken(idpKey, 'user/*.rs', { teams: ['*'] });
    const a = await userToken(idpKey, 'user/*.cruds', { teams: ['cmht'] });
    const count = async () => JSON.parse((await http('GET', '/fhir/AuditEvent?_summary=count', { token: auditor })).text).total as number;
    const before = await count();
    const requests: [string, string, { token?: string; body?: unknown; form?: Record<string, string> }][] = [
      ['GET', '/fhir/metadata', {}],
      ['GET', '/.well-known/smart-configuration', {}],
      ['GET', '/fhir/Patient/pa', {}], // 401
      ['GET', '/fhir/Patient/pa', { token: a }],
      ['GET', '/fhir/Patient/pb', { token: a }], // 404
      ['GET', '/fhir/Task?status=requested', { token: a }],
      ['POST', '/fhir/Observation', { token: a, body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pa' } } }],
      ['POST', '/fhir/Observation', { token: a, body: { resourceType: 'Observation', status: 'sometimes' } }], // 422
      ['DELETE', '/fhir/AuditEvent/anything', { token: a }], // refused
      ['POST', '/auth/token', { form: { grant_type: 'password' } }], // 400
    ];
    for (const [method, path, opts] of requests) await http(method, path, opts);
    // the first count request is recorded after it answered, so it is one of the new ones
    expect(await count()).toBe(before + requests.length + 1);
  });
});

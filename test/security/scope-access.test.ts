import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offeringRoutes } from '../../src/http/fhir-router.js';
import { accessCheck } from '../../src/security/access.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { startAuthApp, testKey, userToken, type AuthTestApp, type TestKey, json } from './support.js';

let key: TestKey;
let app: AuthTestApp;
/** These tests are about scopes: the user works for every team, so compartments (test/security/compartments.test.ts) do not stand in the way. */
const EVERY_TEAM = { teams: ['*'] };
const as = async (scope: string, method: string, path: string, body?: unknown) => app.as(await userToken(key, scope, EVERY_TEAM), method, path, body);

const patient = { resourceType: 'Patient', name: [{ family: 'Scope' }] };
const task = (status = 'requested') => ({ resourceType: 'Task', status, intent: 'order' });

async function expectForbidden(res: Response, needs: string) {
  expect(res.status).toBe(403);
  const outcome = await json(res);
  expect(outcome.issue[0]).toMatchObject({ code: 'forbidden' });
  expect(outcome.issue[0].diagnostics).toContain(needs);
}

beforeAll(async () => {
  key = await testKey('ES384');
  app = await startAuthApp({ idpKeys: [key], serverKey: await testKey('ES384') });
});
afterAll(() => app.close());

describe('SMART scopes decide each interaction', () => {
  it('has an access rule for every route of the table', () => {
    for (const route of offeringRoutes) expect(() => accessCheck(route.method, route.pattern), `${route.method} /${route.pattern}`).not.toThrow();
    expect(() => accessCheck('GET', 'Nowhere/:id')).toThrow(/No access rule/);
  });

  it('Task.rs reads and searches Tasks but cannot write them (v2 letters)', async () => {
    const created = await json(await as('user/Task.cruds', 'POST', 'Task', task()));
    expect((await as('user/Task.rs', 'GET', 'Task')).status).toBe(200);
    expect((await as('user/Task.rs', 'GET', `Task/${created.id}`)).status).toBe(200);
    expect((await as('user/Task.rs', 'GET', `Task/${created.id}/_history/1`)).status).toBe(200);
    await expectForbidden(await as('user/Task.rs', 'POST', 'Task', task()), 'Task.c');
    await expectForbidden(await as('user/Task.rs', 'PUT', `Task/${created.id}`, { ...created, status: 'cancelled' }), 'Task.u');
    await expectForbidden(await as('user/Task.rs', 'DELETE', `Task/${created.id}`), 'Task.d');
    await expectForbidden(await as('user/Task.rs', 'POST', `Task/${created.id}/$claim`), 'Task.u');
    await expectForbidden(await as('user/Task.rs', 'GET', 'Patient'), 'Patient.s');
  });

  it('r without s reads by id but cannot search; the v1 forms .read and .write are understood', async () => {
    const created = await json(await as('user/Patient.write', 'POST', 'Patient', patient));
    expect(created.id).toBeDefined();
    expect((await as('user/Patient.r', 'GET', `Patient/${created.id}`)).status).toBe(200);
    await expectForbidden(await as('user/Patient.r', 'GET', 'Patient'), 'Patient.s');
    expect((await as('user/Patient.read', 'GET', 'Patient')).status).toBe(200);
    await expectForbidden(await as('user/Patient.read', 'POST', 'Patient', patient), 'Patient.c');
    expect((await as('user/*.cruds', 'DELETE', `Patient/${created.id}`)).status).toBe(200);
  });

  it('a conditional create needs s as well as c: its criteria reveal what exists', async () => {
    const res = await app.as(await userToken(key, 'user/Patient.c', EVERY_TEAM), 'POST', 'Patient', patient);
    expect(res.status).toBe(201);
    const conditional = await app.fhir('POST', 'Patient', patient, { Authorization: `Bearer ${await userToken(key, 'user/Patient.c', EVERY_TEAM)}`, 'If-None-Exist': 'family=Scope' });
    await expectForbidden(conditional, 'Patient.s');
  });

  it('a search that chains, uses _has or includes another type needs that type too', async () => {
    await expectForbidden(await as('user/Task.rs', 'GET', 'Task?owner:Organization.name=x'), 'Organization.s');
    await expectForbidden(await as('user/Task.rs', 'GET', 'Task?_include=Task:owner:Organization'), 'Organization.r');
    await expectForbidden(await as('user/Task.rs', 'GET', 'Task?_revinclude=Provenance:target'), 'Provenance.r');
    await expectForbidden(await as('user/Patient.rs', 'GET', 'Patient?_has:Task:patient:status=requested'), 'Task.s');
    expect((await as('user/Task.rs user/Organization.rs', 'GET', 'Task?_include=Task:owner:Organization')).status).toBe(200);
  });

  it('system history needs search on every type', async () => {
    await expectForbidden(await as('user/Task.rs', 'GET', '_history'), '*.s');
    expect((await as('user/*.rs', 'GET', '_history')).status).toBe(200);
  });

  it('$process-message needs ServiceRequest.c or MessageHeader.c; $validate only a token', async () => {
    await expectForbidden(await as('user/Task.rs', 'POST', '$process-message', { resourceType: 'Bundle', type: 'message' }), 'ServiceRequest.c, or MessageHeader.c');
    expect((await as('user/Task.rs', 'POST', 'Patient/$validate', patient)).status).toBe(200);
  });
});

describe('Bundle entries are checked each as itself', () => {
  it('a batch answers 403 for the entries the scopes do not allow and runs the rest', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: patient, request: { method: 'POST', url: 'Patient' } },
        { resource: task(), request: { method: 'POST', url: 'Task' } },
        { request: { method: 'GET', url: 'Task' } },
      ],
    };
    const res = await as('user/Patient.c', 'POST', '', bundle);
    expect(res.status).toBe(200);
    const out = await json(res);
    expect(out.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '403', '403']);
    expect(out.entry[1].response.outcome.issue[0]).toMatchObject({ code: 'forbidden' });
  });

  it('a transaction with one entry the scopes do not allow writes nothing', async () => {
    const family = `Tx${Date.now()}`;
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:0d9f7a66-0f0e-4a43-8a83-6f1b2f9d0e01', resource: { ...patient, name: [{ family }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: task(), request: { method: 'POST', url: 'Task' } },
      ],
    };
    await expectForbidden(await as('user/Patient.c', 'POST', '', bundle), 'Task.c');
    expect((await app.store.search(parseSearch('Patient', [['family', family]]))).matches).toHaveLength(0);
  });

  it('a transaction entry answered by a conditional match is checked before it is looked up', async () => {
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient, request: { method: 'POST', url: 'Patient', ifNoneExist: 'family=Scope' } }] };
    await expectForbidden(await as('user/Patient.c', 'POST', '', bundle), 'Patient.s');
  });
});

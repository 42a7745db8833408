import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { listen, startTestApp, type TestApp } from '../support/app.js';
import { fixturePath } from '../support/fixtures.js';
import { startAuthApp, testKey, userToken, type AuthTestApp, type TestKey } from '../security/support.js';

const csvTables = Object.fromEntries(readdirSync(fixturePath('mhsds', 'csv')).map((f) => [f.replace(/\.csv$/, ''), readFileSync(fixturePath('mhsds', 'csv', f), 'utf8')]));

describe('$ingest over a real port', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    t = await startTestApp();
    await seedPathwayData(t.store);
    server = await listen(t.app);
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('takes mhsds-csv as a JSON object of CSV texts by table, and leaves an AuditEvent per write', async () => {
    const res = await fetch(`${server.url}/fhir/$ingest?format=mhsds-csv`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(csvTables) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const outcome = (await res.json()) as OperationOutcome;
    const created = outcome.issue.filter((i) => i.diagnostics?.startsWith('Created ')).map((i) => i.diagnostics!.split(' ')[1].split('/')[0]);
    expect(created.sort()).toEqual(['CarePlan', 'CarePlan', 'CareTeam', 'Patient', 'Practitioner', 'ServiceRequest', 'Task', 'Task']);
    const audit = (await (await fetch(`${server.url}/fhir/AuditEvent?_count=100`)).json()) as Bundle;
    expect(audit.entry?.length).toBeGreaterThanOrEqual(created.length);
  });

  it('a payload that writes nothing is audited as the request it was', async () => {
    const count = async () => ((await (await fetch(`${server.url}/fhir/AuditEvent?_summary=count`)).json()) as Bundle).total ?? 0;
    const before = await count();
    const res = await fetch(`${server.url}/fhir/$ingest?format=mhsds-json`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ table: 'MHS201CareContact', CareContactId: 'X', ServiceRequestId: 'NOWHERE' }) });
    expect(res.status).toBe(422);
    // the ingest's own AuditEvent, and the count search's before it
    expect(await count()).toBe(before + 2);
  });

  it('a CSV that is not an object of tables is 400 naming table=', async () => {
    const res = await fetch(`${server.url}/fhir/$ingest?format=mhsds-csv`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: 'LocalPatientId\nLP1\n' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue[0].expression).toEqual(['table']);
  });
});

describe('$ingest needs ServiceRequest.c and .u; $transform StructureMap.r', () => {
  let key: TestKey;
  let app: AuthTestApp;
  const EVERY_TEAM = { teams: ['*'] };
  beforeAll(async () => {
    key = await testKey('ES384');
    app = await startAuthApp({ idpKeys: [key], serverKey: await testKey('ES384') });
    await seedPathwayData(app.store);
  });
  afterAll(() => app.close());

  const ingest = async (scope: string) =>
    app.app.request('http://stepwise.test/fhir/$ingest?format=mhsds-json', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await userToken(key, scope, EVERY_TEAM)}` },
      body: JSON.stringify({ table: 'MHS001MPI', LocalPatientId: 'LP-AUTH', PersonBirthDate: '1980-01-01' }),
    });

  it('403 with ServiceRequest.c alone, naming what it needs; 200 with both', async () => {
    const refused = await ingest('user/ServiceRequest.c');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as OperationOutcome).issue[0].diagnostics).toContain('ServiceRequest.c and ServiceRequest.u');
    expect((await ingest('user/ServiceRequest.cu')).status).toBe(200);
  });

  it('no token is 401', async () => {
    const res = await app.app.request('http://stepwise.test/fhir/$ingest?format=mhsds-json', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
  });

  it('$transform needs StructureMap.r', async () => {
    const res = await app.as(await userToken(key, 'user/Patient.r', EVERY_TEAM), 'POST', 'StructureMap/MHS001MPI-to-fhir/$transform', { resourceType: 'Basic' });
    expect(res.status).toBe(403);
  });
});

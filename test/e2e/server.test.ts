import { MedplumClient } from '@medplum/core';
import type { Bundle, Patient, Task } from '@medplum/fhirtypes';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NHS_NUMBER, patient, task } from '../support/builders.js';
import { listen, startTestApp, type TestApp } from '../support/app.js';
import { postgresTestDatabase } from '../support/databases.js';

/** The server on a real loopback port, on PostgreSQL, driven by real HTTP clients. */
describe('Stepwise over a real socket on PostgreSQL', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let medplum: MedplumClient;

  beforeAll(async () => {
    t = await startTestApp(() => postgresTestDatabase(20));
    server = await listen(t.app);
    medplum = new MedplumClient({ baseUrl: server.url, fhirUrlPath: 'fhir', fetch: globalThis.fetch });
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('MedplumClient creates, searches and runs a transaction', async () => {
    const p = await medplum.createResource<Patient>(patient({ identifier: [{ system: NHS_NUMBER, value: '9000000009' }] }));
    expect(p.meta?.versionId).toBe('1');
    const tk = await medplum.createResource<Task>(task({ for: { reference: `Patient/${p.id}` } }));
    const found = await medplum.searchResources('Task', { 'patient.identifier': `${NHS_NUMBER}|9000000009` });
    expect(found.map((r) => r.id)).toEqual([tk.id]);
    const tx = await medplum.executeBatch({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:6f1d3c56-0a3b-4b7e-9c1e-9f1a2b3c4d5e', resource: patient({ name: [{ family: 'ViaClient' }] }), request: { method: 'POST', url: 'Patient' } },
        { resource: task({ for: { reference: 'urn:uuid:6f1d3c56-0a3b-4b7e-9c1e-9f1a2b3c4d5e' } }), request: { method: 'POST', url: 'Task' } },
      ],
    });
    expect(tx.type).toBe('transaction-response');
    const newPatient = tx.entry![0].resource as Patient;
    expect((tx.entry![1].resource as Task).for?.reference).toBe(`Patient/${newPatient.id}`);
    const read = await medplum.readResource('Patient', newPatient.id!);
    expect(read.name?.[0].family).toBe('ViaClient');
  });

  it('50 parallel conditional creates over HTTP make exactly one resource', async () => {
    const value = `http-race-${Date.now()}`;
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        request(`${server.url}/fhir/Patient`, {
          method: 'POST',
          headers: { 'content-type': 'application/fhir+json', 'if-none-exist': `identifier=urn:race|${value}` },
          body: JSON.stringify(patient({ identifier: [{ system: 'urn:race', value }] })),
        }).then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as Patient })),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(49);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    const b = (await (await request(`${server.url}/fhir/Patient?identifier=urn:race|${value}`)).body.json()) as Bundle;
    expect(b.total).toBe(1);
  });

  it('concurrent PUTs of one resource never lose or reorder a version', async () => {
    const p = await medplum.createResource<Patient>(patient());
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        request(`${server.url}/fhir/Patient/${p.id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/fhir+json' },
          body: JSON.stringify({ ...p, meta: undefined, name: [{ family: `Writer${i}` }] }),
        }).then((r) => {
          void r.body.dump();
          return r.headers.etag as string;
        }),
      ),
    );
    expect(new Set(results).size).toBe(30);
    const history = (await (await request(`${server.url}/fhir/Patient/${p.id}/_history?_count=100`)).body.json()) as Bundle;
    const versions = history.entry!.map((e) => Number(e.resource!.meta!.versionId));
    expect(versions).toEqual(Array.from({ length: 31 }, (_, i) => 31 - i));
  });

  it('compresses responses when the client asks', async () => {
    const res = await request(`${server.url}/fhir/metadata`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    await res.body.dump();
  });
});

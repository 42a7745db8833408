import type { Bundle, OperationOutcome, Patient, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, task } from '../support/builders.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const count = async (query: string) => ((await (await t.fhir('GET', `${query}${query.includes('?') ? '&' : '?'}_summary=count`)).json()) as Bundle).total;

describe('transaction', () => {
  it('creates entries that refer to each other by urn:uuid, all in one go', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        // the Task comes first and refers forward to the Patient
        { fullUrl: 'urn:uuid:0b1e9c4e-1111-4c5e-9a5e-000000000002', resource: task({ for: { reference: 'urn:uuid:0b1e9c4e-1111-4c5e-9a5e-000000000001' } }), request: { method: 'POST', url: 'Task' } },
        { fullUrl: 'urn:uuid:0b1e9c4e-1111-4c5e-9a5e-000000000001', resource: patient({ name: [{ family: 'Forward' }] }), request: { method: 'POST', url: 'Patient' } },
      ],
    };
    const res = await t.fhir('POST', '', bundle);
    expect(res.status).toBe(200);
    const out = (await res.json()) as Bundle;
    expect(out.type).toBe('transaction-response');
    expect(out.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
    const createdTask = out.entry![0].resource as Task;
    const createdPatient = out.entry![1].resource as Patient;
    expect(createdTask.for?.reference).toBe(`Patient/${createdPatient.id}`);
    expect(out.entry![1].response?.location).toMatch(new RegExp(`/Patient/${createdPatient.id}/_history/1$`));
    const found = (await (await t.fhir('GET', `Task?patient=Patient/${createdPatient.id}`)).json()) as Bundle;
    expect(found.total).toBe(1);
  });

  it('is all or nothing: a bad entry rolls every entry back and is located', async () => {
    const before = await count('Patient');
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient({ name: [{ family: 'Rolled' }] }), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', birthDate: 'not-a-date' } as Patient, request: { method: 'POST', url: 'Patient' } },
      ],
    };
    const res = await t.fhir('POST', '', bundle);
    expect(res.status).toBe(422);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue[0].expression).toEqual(['Bundle.entry[1].resource.birthDate']);
    expect(await count('Patient')).toBe(before);
    expect(await count('Patient?family=Rolled')).toBe(0);
  });

  it('follows the processing order: DELETE, then POST, then PUT, then GET', async () => {
    const doomed = (await (await t.fhir('POST', 'Patient', patient({ name: [{ family: 'Doomed' }] }))).json()) as Patient;
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'GET', url: 'Patient?family=Doomed,Fresh' } },
        { resource: { ...patient({ name: [{ family: 'Fresh' }] }), id: 'fresh-put' }, request: { method: 'PUT', url: 'Patient/fresh-put' } },
        { request: { method: 'DELETE', url: `Patient/${doomed.id}` } },
      ],
    };
    const out = (await (await t.fhir('POST', '', bundle)).json()) as Bundle;
    const search = out.entry![0].resource as Bundle;
    // the search ran last: it sees the PUT and not the deleted patient
    expect(search.entry?.map((e) => e.resource?.id)).toEqual(['fresh-put']);
    expect(out.entry!.map((e) => e.response?.status)).toEqual(['200 OK', '201 Created', '200 OK']);
  });

  it('resolves conditional references and conditional creates inside the transaction', async () => {
    await t.fhir('POST', 'Patient', patient({ identifier: [{ system: 'urn:mrn', value: 'cond-1' }] }));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: task({ for: { reference: 'Patient?identifier=urn:mrn|cond-1' } }), request: { method: 'POST', url: 'Task' } },
        { resource: patient({ identifier: [{ system: 'urn:mrn', value: 'cond-1' }] }), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:mrn|cond-1' } },
      ],
    };
    const out = (await (await t.fhir('POST', '', bundle)).json()) as Bundle;
    expect(out.entry!.map((e) => e.response?.status)).toEqual(['201 Created', '200 OK']);
    const matched = out.entry![1].resource as Patient;
    expect((out.entry![0].resource as Task).for?.reference).toBe(`Patient/${matched.id}`);
    expect(await count('Patient?identifier=urn:mrn|cond-1')).toBe(1);
  });

  it('fails with 412 when a conditional reference matches nothing', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: task({ for: { reference: 'Patient?identifier=urn:mrn|nobody' } }), request: { method: 'POST', url: 'Task' } }],
    };
    const res = await t.fhir('POST', '', bundle);
    expect(res.status).toBe(412);
    expect(((await res.json()) as OperationOutcome).issue[0].expression).toEqual(['Bundle.entry[0]']);
  });

  it('refuses two entries acting on the same resource', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { ...patient(), id: 'twice' }, request: { method: 'PUT', url: 'Patient/twice' } },
        { request: { method: 'DELETE', url: 'Patient/twice' } },
      ],
    };
    expect((await t.fhir('POST', '', bundle)).status).toBe(400);
  });

  it('applies a JSON Patch carried as a Binary', async () => {
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as Patient;
    const data = Buffer.from(JSON.stringify([{ op: 'replace', path: '/birthDate', value: '1999-09-09' }])).toString('base64');
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data }, request: { method: 'PATCH', url: `Patient/${p.id}` } }],
    };
    const out = (await (await t.fhir('POST', '', bundle)).json()) as Bundle;
    expect((out.entry![0].resource as Patient).birthDate).toBe('1999-09-09');
  });
});

describe('batch', () => {
  it('answers each entry on its own: a failure does not undo the others', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: patient({ name: [{ family: 'BatchOk' }] }), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', active: 'maybe' } as unknown as Patient, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/does-not-exist' } },
        { request: { method: 'GET', url: 'Patient?family=BatchOk' } },
      ],
    };
    const out = (await (await t.fhir('POST', '', bundle)).json()) as Bundle;
    expect(out.type).toBe('batch-response');
    expect(out.entry!.map((e) => e.response?.status)).toEqual(['201 Created', '400', '404', '200 OK']);
    expect(out.entry![1].response?.outcome?.issue?.[0].expression).toEqual(['Bundle.entry[1].resource.active']);
    expect((out.entry![3].resource as Bundle).total).toBe(1);
  });

  it('rejects a Bundle that is not a batch or transaction, and one with too many entries', async () => {
    expect((await t.fhir('POST', '', { resourceType: 'Bundle', type: 'collection' })).status).toBe(400);
    const many: Bundle = { resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: 101 }, () => ({ request: { method: 'GET', url: 'metadata' } })) };
    expect((await t.fhir('POST', '', many)).status).toBe(413);
  });
});

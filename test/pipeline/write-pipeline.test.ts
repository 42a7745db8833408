import type { AuditEvent, Bundle, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

/** Every REST write, Bundle entries included, passes validate → policies → store → audit in one transaction. */
describe('the write pipeline over REST', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const auditsOf = async (ref: string): Promise<AuditEvent[]> => {
    const res = await t.fhir('GET', `AuditEvent?entity=${ref}&_count=50`);
    expect(res.status).toBe(200);
    return (((await res.json()) as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
  };
  const patient = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }] });

  it('records each create, update, patch and delete with an AuditEvent naming the exact version', async () => {
    const created = (await (await t.fhir('POST', 'Patient', patient('Audit'), { 'X-Request-Id': 'req-create-1' })).json()) as Patient;
    const ref = `Patient/${created.id}`;
    expect((await t.fhir('PUT', ref, { ...created, name: [{ family: 'Audited' }] })).status).toBe(200);
    expect((await t.fhir('PATCH', ref, [{ op: 'add', path: '/gender', value: 'female' }], { 'Content-Type': 'application/json-patch+json' })).status).toBe(200);
    expect((await t.fhir('DELETE', ref)).status).toBe(200);

    const audits = await auditsOf(ref);
    const byVersion: Record<string, AuditEvent> = Object.fromEntries(audits.map((a) => [a.entity!.find((e) => e.role?.code === '4')!.what!.reference, a]));
    expect(Object.keys(byVersion).sort()).toEqual([1, 2, 3, 4].map((v) => `${ref}/_history/${v}`));
    expect(byVersion[`${ref}/_history/1`].subtype?.[0].code).toBe('create');
    expect(byVersion[`${ref}/_history/1`].action).toBe('C');
    expect(byVersion[`${ref}/_history/2`].subtype?.[0].code).toBe('update');
    expect(byVersion[`${ref}/_history/3`].subtype?.[0].code).toBe('patch');
    expect(byVersion[`${ref}/_history/4`].action).toBe('D');
    const detail = byVersion[`${ref}/_history/1`].entity!.find((e) => e.type?.code === '2' && e.detail)!.detail!;
    expect(detail).toContainEqual({ type: 'X-Request-ID', valueString: 'req-create-1' });
    // the person the write was about
    expect(byVersion[`${ref}/_history/1`].entity!.some((e) => e.role?.code === '1' && e.what?.reference === ref)).toBe(true);
  });

  it('leaves neither the resource nor an AuditEvent when validation refuses the write', async () => {
    const count = async () => ((await (await t.fhir('GET', 'AuditEvent?_summary=count')).json()) as Bundle).total;
    const before = await count();
    expect(before).toBeGreaterThan(0);
    const res = await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Refused' }], gender: 'not-a-gender' });
    expect(res.status).toBe(422);
    expect(await count()).toBe(before);
    expect(((await (await t.fhir('GET', 'Patient?family=Refused&_summary=count')).json()) as Bundle).total).toBe(0);
  });

  it('audits each entry of a transaction, and none when the transaction fails', async () => {
    const ok: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1d1f4c3e-0000-4000-8000-000000000001', resource: patient('One'), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:1d1f4c3e-0000-4000-8000-000000000002', resource: patient('Two'), request: { method: 'POST', url: 'Patient' } },
      ],
    };
    const res = (await (await t.fhir('POST', '', ok)).json()) as Bundle;
    const refs = res.entry!.map((e) => /(Patient\/[^/]+)\/_history/.exec(e.response!.location!)![1]);
    for (const ref of refs) expect(await auditsOf(ref)).toHaveLength(1);

    const failing: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1d1f4c3e-0000-4000-8000-000000000003', resource: { ...patient('Three'), id: 'tx-three' }, request: { method: 'PUT', url: 'Patient/tx-three' } },
        { resource: { resourceType: 'Patient', gender: 'nope' } as never, request: { method: 'POST', url: 'Patient' } },
      ],
    };
    expect((await t.fhir('POST', '', failing)).status).toBe(422);
    expect(await auditsOf('Patient/tx-three')).toHaveLength(0);
    expect((await t.fhir('GET', 'Patient/tx-three')).status).toBe(404);
  });

  it('keeps the audit trail out of whole-system history, and in its own', async () => {
    const res = (await (await t.fhir('GET', '_history?_count=200')).json()) as Bundle;
    expect(res.entry!.some((e) => e.resource?.resourceType === 'AuditEvent')).toBe(false);
    const own = (await (await t.fhir('GET', 'AuditEvent/_history?_count=5')).json()) as Bundle;
    expect(own.entry!.length).toBeGreaterThan(0);
  });
});

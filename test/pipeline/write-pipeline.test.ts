import type { AuditEvent, Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
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

  it('leaves no resource when validation refuses the write, and one AuditEvent of the refusal, outside its rolled-back transaction', async () => {
    // counted in SQL: a search of the trail is itself audited
    const count = async () => Number((await t.t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_event'))[0].n);
    const before = await count();
    expect(before).toBeGreaterThan(0);
    const res = await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Refused' }], gender: 'not-a-gender' });
    expect(res.status).toBe(422);
    expect(await count()).toBe(before + 1);
    const [last] = await t.t.db.query<{ content: string }>('SELECT content FROM audit_event ORDER BY seq DESC LIMIT 1');
    const audit = JSON.parse(last.content) as AuditEvent;
    expect([audit.subtype?.[0].code, audit.action, audit.outcome]).toEqual(['create', 'C', '4']);
    expect(audit.outcomeDesc).toMatch(/gender/);
    expect(Number((await t.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM resource WHERE type = 'Patient' AND content LIKE '%Refused%'"))[0].n)).toBe(0);
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

  it('keeps the audit trail append-only and apart: read, searched by patient, agent, entity and date, never changed', async () => {
    const created = (await (await t.fhir('POST', 'Patient', patient('Trail'))).json()) as Patient;
    const [audit] = await auditsOf(`Patient/${created.id}`);
    const read = await t.fhir('GET', `AuditEvent/${audit.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(audit);
    expect((await t.fhir('GET', `AuditEvent/${audit.id}/_history/1`)).status).toBe(200);
    expect((await t.fhir('GET', `AuditEvent/${audit.id}/_history/2`)).status).toBe(404);

    const search = async (q: string) => ((await (await t.fhir("GET", `AuditEvent?${q}`)).json()) as Bundle).entry?.map((e) => e.resource!.id) ?? [];
    expect(await search(`patient=Patient/${created.id}`)).toEqual([audit.id]);
    expect(await search(`patient=Patient/${created.id}&date=ge${audit.recorded}`)).toEqual([audit.id]);
    expect(await search(`patient=Patient/${created.id}&date=lt${audit.recorded}`)).toEqual([]);
    const who = audit.agent[0].who!;
    const byAgent = who.identifier ? `agent:identifier=${encodeURIComponent(`${who.identifier.system}|${who.identifier.value}`)}` : `agent=${encodeURIComponent(who.display!)}`;
    expect(await search(`patient=Patient/${created.id}&${byAgent}&subtype=create&outcome=0`)).toEqual([audit.id]);
    expect(await search(`patient=Patient/${created.id}&agent=someone-else`)).toEqual([]);
    expect(await search(`patient=Patient/${created.id}&subtype=update`)).toEqual([]);

    // IHE BALP: the trail is never rewritten, by anyone
    for (const [method, body] of [['PUT', audit], ['DELETE', undefined], ['PATCH', [{ op: 'remove', path: '/outcome' }]]] as const) {
      const res = await t.fhir(method, `AuditEvent/${audit.id}`, body, method === 'PATCH' ? { 'Content-Type': 'application/json-patch+json' } : {});
      expect(res.status, method).toBe(405);
      expect(((await res.json()) as OperationOutcome).issue[0].diagnostics).toContain('append-only');
    }
    expect(await t.fhir('GET', `AuditEvent/${audit.id}`).then((r) => r.json())).toEqual(audit);

    // a criterion the trail is not searched by is refused, never ignored into a wider answer
    const wide = await t.fhir('GET', `AuditEvent?patient=Patient/${created.id}&site=anything`);
    expect(wide.status).toBe(400);
    expect(((await wide.json()) as OperationOutcome).issue[0].expression).toEqual(['site']);
  });

  it('pages the audit trail newest first with keyset links', async () => {
    const first = (await (await t.fhir('GET', 'AuditEvent?_count=2')).json()) as Bundle;
    const next = first.link!.find((l) => l.relation === 'next')!.url.replace('http://stepwise.test/fhir/', '');
    const second = (await (await t.fhir('GET', next)).json()) as Bundle;
    const times = [...first.entry!, ...second.entry!].map((e) => (e.resource as AuditEvent).recorded);
    expect(times).toEqual([...times].sort().reverse());
    expect(new Set([...first.entry!, ...second.entry!].map((e) => e.resource!.id)).size).toBe(4);
  });

  it('takes an AuditEvent a client records, and keeps it as given', async () => {
    const event: AuditEvent = {
      resourceType: 'AuditEvent',
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110', display: 'Patient Record' },
      recorded: '2026-03-02T08:59:00Z',
      outcome: '0',
      agent: [{ who: { display: 'GP system' }, requestor: true }],
      source: { observer: { display: 'GP system' } },
    };
    const res = await t.fhir('POST', 'AuditEvent', event);
    expect(res.status).toBe(201);
    const kept = (await res.json()) as AuditEvent;
    expect(kept).toMatchObject({ ...event, meta: { versionId: '1' } });
    expect((await t.fhir('GET', `AuditEvent?agent=GP system`).then((r) => r.json()) as Bundle).entry!.map((e) => e.resource!.id)).toEqual([kept.id]);
  });
});

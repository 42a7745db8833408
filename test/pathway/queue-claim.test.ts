import type { Bundle, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitReferral } from '../../src/pathway/front-door.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { postgresTestDatabase } from '../support/databases.js';
import { completeContext, indicator, serviceRequest } from './builders.js';

/** The triage team works the front-door queue over plain FHIR REST, on PostgreSQL where claims really race. */
describe('front-door queue on PostgreSQL', () => {
  let t: TestApp;
  let store: ResourceStore;
  beforeAll(async () => {
    t = await startTestApp(() => postgresTestDatabase(20));
    store = new ResourceStore(t.t.db, t.clock);
    await seedPathwayData(store);
    const base = completeContext({ related: [] });
    const referrals = [
      { id: 'sr-routine', reasonCode: [{ text: 'low mood' }] }, // senior oversight (no rule), urgent 24 h, held: gaps
      { id: 'sr-crisis', reasonCode: [indicator('imminent-risk')] },
      { id: 'sr-redirect', reasonCode: [indicator('out-of-scope')] },
    ];
    await store.transaction(async (tx) => {
      for (const r of [base.patient!, base.requester!]) await tx.update(r);
      for (const r of referrals) await tx.update(serviceRequest(r));
    });
    for (const r of referrals) await admitReferral(store, { serviceRequestId: r.id }, { clock: t.clock });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists the queue: triage Tasks owned by the front-door team in an open status', async () => {
    const list = await t.fhir('GET', 'Task?owner=Organization/front-door-team&status=requested,received,on-hold&code=triage&_count=50');
    expect(list.status).toBe(200);
    const foci = (((await list.json()) as Bundle).entry ?? []).map((e) => (e.resource as Task).focus?.reference).sort();
    // the crisis referral went straight to the crisis team; the other two wait at the front door
    expect(foci).toEqual(['ServiceRequest/sr-redirect', 'ServiceRequest/sr-routine']);
    const crisis = await t.fhir('GET', 'Task?owner=Organization/crisis-team&code=triage&priority=stat');
    expect((((await crisis.json()) as Bundle).entry ?? []).map((e) => (e.resource as Task).focus?.reference)).toEqual(['ServiceRequest/sr-crisis']);
  });

  it('lets exactly one of two simultaneous claims through (If-Match)', async () => {
    const search = await t.fhir('GET', 'Task?focus=ServiceRequest/sr-redirect&code=triage');
    const task = ((await search.json()) as Bundle).entry![0].resource as Task;
    const version = task.meta!.versionId!;
    const claim = (who: string) =>
      t.fhir('PATCH', `Task/${task.id}`, [
        { op: 'replace', path: '/status', value: 'in-progress' },
        { op: 'add', path: '/note', value: [{ text: `claimed by ${who}` }] },
      ], { 'Content-Type': 'application/json-patch+json', 'If-Match': `W/"${version}"` });
    for (let round = 0; round < 5; round++) {
      const statuses = (await Promise.all([claim('Asha'), claim('Ben')])).map((r) => r.status).sort();
      if (round === 0) expect(statuses).toEqual([200, 412]);
      else expect(statuses).toEqual([412, 412]);
    }
    const after = (await (await t.fhir('GET', `Task/${task.id}`)).json()) as Task;
    expect(after.meta?.versionId).toBe(String(Number(version) + 1));
    expect(after.note).toHaveLength(1);
  });

  it('gives a Task to exactly one of many simultaneous $claim calls; the others are told who holds it', async () => {
    const search = await t.fhir('GET', 'Task?focus=ServiceRequest/sr-crisis&code=triage');
    const task = ((await search.json()) as Bundle).entry![0].resource as Task;
    const clinicians = Array.from({ length: 12 }, (_, i) => `clinician-${i}`);
    await store.transaction(async (tx) => {
      for (const id of clinicians) await tx.update({ resourceType: 'Practitioner', id });
    });
    const claims = clinicians.map((id) =>
      t.fhir('POST', `Task/${task.id}/$claim`, { resourceType: 'Parameters', parameter: [{ name: 'practitioner', valueReference: { reference: `Practitioner/${id}` } }] }),
    );
    const answers = await Promise.all(claims.map(async (r) => ({ status: (await r).status, body: (await (await r).json()) as Task & { issue?: { diagnostics: string }[] } })));
    const won = answers.filter((a) => a.status === 200);
    expect(won).toHaveLength(1);
    const holder = won[0].body.owner!.reference!;
    const lost = answers.filter((a) => a.status !== 200);
    expect(lost.map((a) => a.status)).toEqual(Array(clinicians.length - 1).fill(409));
    for (const a of lost) expect(a.body.issue![0].diagnostics).toContain(`held by ${holder}`);
    const after = (await (await t.fhir('GET', `Task/${task.id}`)).json()) as Task;
    expect([after.owner?.reference, after.status, after.meta?.versionId]).toEqual([holder, 'received', String(Number(task.meta!.versionId) + 1)]);
  });

  it('lets exactly one of many simultaneous PUT claims through', async () => {
    const search = await t.fhir('GET', 'Task?focus=ServiceRequest/sr-routine&code=triage');
    const task = ((await search.json()) as Bundle).entry![0].resource as Task;
    const claims = Array.from({ length: 8 }, (_, i) =>
      t.fhir('PUT', `Task/${task.id}`, { ...task, status: 'in-progress', note: [{ text: `claimed by clinician ${i}` }] }, { 'If-Match': `W/"${task.meta!.versionId}"` }),
    );
    const statuses = (await Promise.all(claims)).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(7);
  });
});

import type { Bundle, OperationOutcome, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHWAY } from '../../src/pathway/codes.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** The pathway's policies hold on every REST route: PUT, PATCH, DELETE and conditional DELETE. */
describe('pathway policies over REST', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await seedPathwayData(t.store);
  });
  afterAll(() => t.close());

  const referral = async (): Promise<{ sr: ServiceRequest; triage: Task }> => {
    const sr = (await (await t.fhir('POST', 'ServiceRequest', { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { display: 'Someone' }, reasonCode: [{ text: 'Low mood' }] })).json()) as ServiceRequest;
    const found = (await (await t.fhir('GET', `Task?focus=ServiceRequest/${sr.id}&code=${PATHWAY.taskCode}|triage`)).json()) as Bundle<Task>;
    return { sr, triage: found.entry![0].resource! };
  };
  const outcome = async (res: Response) => (await res.json()) as OperationOutcome;

  it('a Task status the state machine does not allow is 409 naming the allowed ones, on PUT and on PATCH', async () => {
    const { triage } = await referral();
    const cancelled = (await (await t.fhir('PUT', `Task/${triage.id}`, { ...triage, status: 'cancelled', statusReason: { text: 'Duplicate referral' } })).json()) as Task;
    expect(cancelled.status).toBe('cancelled');
    const put = await t.fhir('PUT', `Task/${triage.id}`, { ...cancelled, status: 'in-progress' });
    expect(put.status).toBe(409);
    expect((await outcome(put)).issue[0]).toMatchObject({ expression: ['Task.status'], diagnostics: expect.stringContaining("from 'cancelled' it can go to 'entered-in-error'") });
    const patch = await t.fhir('PATCH', `Task/${triage.id}`, [{ op: 'replace', path: '/status', value: 'requested' }], { 'Content-Type': 'application/json-patch+json' });
    expect(patch.status).toBe(409);
    expect(((await (await t.fhir('GET', `Task/${triage.id}`)).json()) as Task).status).toBe('cancelled');
  });

  it('a Task that is not one of the pathway\'s is not held to its state machine', async () => {
    const task = (await (await t.fhir('POST', 'Task', { resourceType: 'Task', status: 'completed', intent: 'order' })).json()) as Task;
    expect((await t.fhir('PUT', `Task/${task.id}`, { ...task, status: 'requested' })).status).toBe(200);
  });

  it('an open triage Task is not deleted (409); a closed one is', async () => {
    const { triage } = await referral();
    const refused = await t.fhir('DELETE', `Task/${triage.id}`);
    expect(refused.status).toBe(409);
    expect((await outcome(refused)).issue[0].diagnostics).toContain('cancelled');
    expect((await t.fhir('DELETE', `Task?_id=${triage.id}`)).status).toBe(409);
    expect((await t.fhir('GET', `Task/${triage.id}`)).status).toBe(200);
    await t.fhir('PUT', `Task/${triage.id}`, { ...triage, status: 'cancelled', statusReason: { text: 'Sent in error' } });
    expect((await t.fhir('DELETE', `Task/${triage.id}`)).status).toBe(200);
  });

  it('a referral waiting at the front door is revoked, not deleted; revoking it cancels its open Tasks', async () => {
    const { sr, triage } = await referral();
    const refused = await t.fhir('DELETE', `ServiceRequest/${sr.id}`);
    expect(refused.status).toBe(409);
    expect((await outcome(refused)).issue[0].diagnostics).toContain('revoke');
    expect((await t.fhir('PUT', `ServiceRequest/${sr.id}`, { ...sr, status: 'revoked' })).status).toBe(200);
    expect(((await (await t.fhir('GET', `Task/${triage.id}`)).json()) as Task).status).toBe('cancelled');
    const calls = (await (await t.fhir('GET', `Task?part-of=Task/${triage.id}`)).json()) as Bundle<Task>;
    for (const e of calls.entry ?? []) expect(e.resource!.status).toBe('cancelled');
    expect((await t.fhir('DELETE', `ServiceRequest/${sr.id}`)).status).toBe(200);
  });
});

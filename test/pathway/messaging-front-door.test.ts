import type { Bundle, MessageHeader, OperationOutcome, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHWAY } from '../../src/pathway/codes.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { barsHeaders, entry, FRONT_DOOR_DOS, guid, headersAsHttp, REFERRAL_CONTEXT, referralMessage } from '../messaging/support.js';
import { indicator } from './builders.js';


/** A BaRS referral through $process-message reaches the front door in the same transaction. */
describe('referral messages at the front door', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const send = (m: Bundle, useContext = REFERRAL_CONTEXT) => app.fhir('POST', '$process-message', m, headersAsHttp(barsHeaders(FRONT_DOOR_DOS, useContext)));
  const UPDATE = 'a5t1|referral|servicerequest-request|update';
  const tasksFor = async (sr: string) => ((await (await app.fhir('GET', `Task?focus=${sr}&code=${PATHWAY.taskCode}|triage`)).json()) as Bundle).entry ?? [];

  it('gives an accepted referral its triage Task and names each minimum dataset gap in the response', async () => {
    const res = await send(referralMessage());
    expect(res.status).toBe(200);
    const body = (await res.json()) as Bundle;
    const sr = (body.entry![0].resource as MessageHeader).focus![0].reference!;
    const outcome = body.entry![1].resource as OperationOutcome;
    const triage = outcome.issue.find((i) => i.diagnostics?.startsWith('Triage Task/'));
    expect(triage?.severity).toBe('information');
    const tasks = await tasksFor(sr);
    expect(tasks).toHaveLength(1);
    const task = tasks[0].resource as Task;
    expect(triage?.diagnostics).toContain(`Task/${task.id}`);
    // the app's messaging runs on the app's clock: receipt time is the FixedClock's now
    expect(task.authoredOn).toBe(app.clock.now().toISOString());
    const gaps = outcome.issue.filter((i) => i.code === 'incomplete');
    expect(gaps.length).toBeGreaterThan(0); // the sample carries no RiskAssessment, for one
    // every gap the Task holds is named to the sender, with its minimum dataset code
    expect(gaps.map((g) => g.details?.coding?.[0].code).sort()).toEqual((task.input ?? []).map((i) => i.valueCodeableConcept?.coding?.[0].code).sort());
    for (const g of gaps) expect(g.diagnostics).toMatch(/^Minimum dataset: .+ is (missing|not valid)/);
  });

  it('a message that is refused leaves no triage Task behind', async () => {
    const before = ((await (await app.fhir('GET', 'Task?_summary=count')).json()) as Bundle).total;
    // a referral is refused only for what stops it being read or routed: here, no rank-1 contact
    const m = referralMessage();
    const patient = m.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;
    patient.contact = [];
    const res = await send(m);
    expect(res.status).toBeGreaterThanOrEqual(400);
    const after = ((await (await app.fhir('GET', 'Task?_summary=count')).json()) as Bundle).total;
    expect(after).toBe(before);
  });

  it('an update message re-screens the referral; a cancellation cancels its triage Task and the call to the referrer', async () => {
    const created = (await (await send(referralMessage())).json()) as Bundle;
    const ref = (created.entry![0].resource as MessageHeader).focus![0].reference!;
    const id = ref.split('/')[1];
    const [before] = (await tasksFor(ref)).map((e) => e.resource as Task);
    expect(before.priority).not.toBe('stat');

    const update = referralMessage();
    const usr = entry<ServiceRequest>(update, 'ServiceRequest');
    usr.fullUrl = `http://stepwise.test/fhir/${ref}`;
    usr.resource = { ...usr.resource!, id, meta: { ...usr.resource!.meta, versionId: '1' }, reasonCode: [{ text: 'Now talking of ending his life, has a plan' }, indicator('imminent-risk')] };
    (update.entry![0].resource as MessageHeader).focus = [{ reference: usr.fullUrl }];
    (update.entry![0].resource as MessageHeader).reason!.coding![0].code = 'update';
    const updated = await send(update, UPDATE);
    expect(updated.status, await updated.clone().text()).toBe(200);
    const [after] = (await tasksFor(ref)).map((e) => e.resource as Task);
    expect(after).toMatchObject({ id: before.id, priority: 'stat', status: 'requested', owner: { reference: 'Organization/crisis-team' }, authoredOn: before.authoredOn });
    expect(Date.parse(after.restriction!.period!.end!) - Date.parse(after.authoredOn!)).toBe(4 * 3_600_000);

    const cancel = structuredClone(update);
    cancel.id = guid();
    cancel.entry = cancel.entry!.filter((e) => ['MessageHeader', 'ServiceRequest', 'Patient', 'Organization'].includes(e.resource!.resourceType));
    const csr = entry<ServiceRequest>(cancel, 'ServiceRequest').resource!;
    csr.status = 'revoked';
    csr.meta!.versionId = '2';
    csr.reasonCode = [{ text: 'Patient moved out of area' }];
    (cancel.entry![0].resource as MessageHeader).definition = 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled';
    const cancelled = await send(cancel, UPDATE);
    expect(cancelled.status, await cancelled.clone().text()).toBe(200);
    const [gone] = (await tasksFor(ref)).map((e) => e.resource as Task);
    expect(gone).toMatchObject({ status: 'cancelled', statusReason: { text: 'The referral was revoked' } });
    const calls = ((await (await app.fhir('GET', `Task?part-of=Task/${gone.id}`)).json()) as Bundle).entry ?? [];
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect((c.resource as Task).status).toBe('cancelled');
  });
});

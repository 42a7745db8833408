import type { Bundle, CarePlan, Flag, MessageHeader, OperationOutcome, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEPWISE_EVENTS } from '../../src/messaging/index.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { barsHeaders, FRONT_DOOR_DOS, guid, headersAsHttp, REFERRAL_CONTEXT, referralMessage } from '../messaging/support.js';
import { escalationsOf, highRiskFlag } from '../pathway/care-support.js';
import { CARE } from '../../src/pathway/care/codes.js';

/** Messaging writes through the same pathway policies as REST: a message cannot carry what a PUT could not. */
describe('messages pass the write policies', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());
  const bars = () => headersAsHttp(barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT));

  const redirectWithoutItsParts = (): Task => ({
    resourceType: 'Task',
    status: 'completed',
    intent: 'order',
    code: { coding: [{ system: PATHWAY.taskCode, code: 'triage' }] },
    businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'redirected' }] },
  });

  it('a high-risk Flag a message brings opens its one same-day escalation, as a REST write of it would', async () => {
    const m = referralMessage();
    const patientEntry = m.entry!.find((e) => e.resource?.resourceType === 'Patient')!;
    const { id: _id, ...flag } = highRiskFlag('unused', 'safeguarding', { subject: { reference: patientEntry.fullUrl } });
    m.entry!.push({ fullUrl: `urn:uuid:${guid()}`, resource: flag });
    const res = await app.fhir('POST', '$process-message', m, bars());
    expect(res.status, await res.clone().text()).toBe(200);
    const all = (await (await app.fhir('GET', 'Flag?_count=100')).json()) as Bundle;
    const ours = (all.entry ?? []).map((e) => e.resource as Flag).filter((f) => f.category?.[0].coding?.[0].system === CARE.riskFlagCategory);
    expect(ours).toHaveLength(1);
    const patient = ours[0].subject!.reference!;
    const escalations = (await escalationsOf(app.store, patient)).filter((t) => t.focus?.reference === `Flag/${ours[0].id}`);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ status: expect.stringMatching(/^(requested|ready)$/), for: { reference: patient } });
  });

  it('a red-flag referral message gets its one same-day escalation in the same statement as its triage, as a REST referral does', async () => {
    const m = referralMessage();
    const sr = m.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
    sr.reasonCode = [{ coding: [{ system: 'http://snomed.info/sct', code: '6471006', display: 'Suicidal thoughts' }] }];
    const res = await app.fhir('POST', '$process-message', m, bars());
    expect(res.status, await res.clone().text()).toBe(200);
    const focus = ((await res.json()) as Bundle).entry![0].resource as MessageHeader;
    const referral = focus.focus![0].reference!;
    const triage = ((await (await app.fhir('GET', `Task?focus=${referral}&code=${PATHWAY.taskCode}|triage`)).json()) as Bundle).entry!.map((e) => e.resource as Task);
    expect(triage.map((t) => t.priority)).toEqual(['stat']);
    const escalations = ((await (await app.fhir('GET', `Task?focus=${referral}&code=${PATHWAY.taskCode}|escalation`)).json()) as Bundle).entry?.map((e) => e.resource as Task) ?? [];
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ priority: 'asap', owner: triage[0].owner, for: expect.objectContaining({ reference: expect.stringMatching(/^Patient\//) }) });
    expect(Date.parse(escalations[0].restriction!.period!.end!) - Date.parse(escalations[0].authoredOn!)).toBeLessThanOrEqual(4 * 3_600_000);
    // the answer names it with the referral's Tasks
    expect(focus.focus!.map((f) => f.reference)).toContain(`Task/${escalations[0].id}`);
  });

  it("a GP's care plan a referral carries is information: the rules for Stepwise care plans do not judge it", async () => {
    const m = referralMessage();
    (m.entry![0].resource as MessageHeader).eventCoding = { system: STEPWISE_EVENTS, code: 'referral-request' };
    delete m.meta;
    const plan = m.entry!.find((e) => e.resource?.resourceType === 'CarePlan')!.resource as CarePlan;
    plan.status = 'active'; // active, with no Stepwise level of support and no care team
    delete plan.careTeam;
    const res = await app.fhir('POST', '$process-message', m);
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it('refuses a message carrying a completed redirect without its rationale, naming the entry, and stores nothing of it', async () => {
    const m = referralMessage();
    (m.entry![0].resource as MessageHeader).eventCoding = { system: STEPWISE_EVENTS, code: 'referral-request' };
    delete m.meta;
    m.entry!.push({ fullUrl: `urn:uuid:${guid()}`, resource: redirectWithoutItsParts() });
    const at = m.entry!.length - 1;
    const res = await app.fhir('POST', '$process-message', m);
    expect(res.status).toBe(422);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue.length).toBe(3);
    for (const issue of outcome.issue) expect(issue.expression).toEqual([`Bundle.entry[${at}].resource.output`]);
    const stored = (await (await app.fhir('GET', `Task?code=${PATHWAY.taskCode}|triage&business-status=redirected&_summary=count`)).json()) as Bundle;
    expect(stored.total).toBe(0);
    const log = await app.t.db.query<{ disposition: string }>('SELECT disposition FROM message_log WHERE bundle_id = $1', [m.id]);
    expect(log.map((r) => r.disposition)).toEqual(['rejected']);
  });
});

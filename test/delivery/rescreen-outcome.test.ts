import type { Bundle, MessageHeader, RiskAssessment, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOutbox } from '../../src/delivery/outbox.js';
import { TRIAGE_OUTCOME_TOPIC, triageOutcomePolicy } from '../../src/messaging/triage-outcome.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { PATHWAY_POLICIES } from '../../src/pathway/write-policies.js';
import { BASE, startTestApp, type TestApp } from '../support/app.js';
import { barsHeaders, FRONT_DOOR_DOS, headersAsHttp, REFERRAL_CONTEXT, referralMessage } from '../messaging/support.js';

/*
 * Issue 14 follow-up: new information written on its own (a RiskAssessment, not the referral) re-screens
 * the person's waiting referral; the front door's new version of the triage Task passes the write
 * policies like any other write, so the BaRS sender is asked again for what is still missing.
 */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp(undefined, { policies: [...PATHWAY_POLICIES, triageOutcomePolicy({ dosId: FRONT_DOOR_DOS, baseUrl: BASE })] });
});
afterAll(async () => app?.close());

const requests = async () =>
  (await listOutbox(app.t.db, { topic: TRIAGE_OUTCOME_TOPIC, limit: 1000 }, true)).map((row) => {
    const bundle = JSON.parse(row.payload) as Bundle;
    const sr = bundle.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
    const task = bundle.entry!.find((e) => e.resource?.resourceType === 'Task')!.resource as Task;
    return { row, header: bundle.entry![0].resource as MessageHeader, sr, missing: (task.input ?? []).map((i) => i.valueCodeableConcept?.coding?.[0].code) };
  });

const riskAssessment = (patient: string, ...risks: string[]): RiskAssessment => ({
  resourceType: 'RiskAssessment',
  status: 'final',
  subject: { reference: patient },
  occurrenceDateTime: '2026-03-02T10:00:00Z',
  prediction: risks.map((code) => ({ outcome: { coding: [{ system: PATHWAY.mdsItem, code }] }, qualitativeRisk: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: 'low' }] } })),
});

describe('a re-screen started by information about the person goes through the write policies', () => {
  it('a RiskAssessment written on its own asks the BaRS sender again, naming only what is still missing', async () => {
    const res = await app.fhir('POST', '$process-message', referralMessage({ freshUrls: true }), headersAsHttp(barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT)));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Bundle;
    const referral = (answer.entry![0].resource as MessageHeader).focus![0].reference!;
    const stored = (await (await app.fhir('GET', referral)).json()) as ServiceRequest;
    const patient = stored.subject!.reference!;

    const [first, ...none] = await requests();
    expect(none).toEqual([]);
    expect(first.missing).toEqual(expect.arrayContaining(['risk-to-self', 'risk-to-others', 'risk-from-others']));

    // the triage team records the current risks, on their own: the referral itself is not written
    const written = await app.fhir('POST', 'RiskAssessment', riskAssessment(patient, 'risk-to-self', 'risk-to-others', 'risk-from-others'));
    expect(written.status).toBe(201);

    const after = await requests();
    expect(after).toHaveLength(2);
    const again = after[1];
    expect(again.row.orderingKey).toBe(referral);
    expect(again.row.idempotencyKey).not.toBe(first.row.idempotencyKey);
    expect(again.sr.status).toBe('on-hold');
    expect(again.missing).not.toContain('risk-to-self');
    expect(again.missing).toEqual(first.missing.filter((m) => !m?.startsWith('risk-')));
    expect(again.sr.note!.at(-1)!.text).toMatch(/^Information requested/);

    // the same information again changes nothing: nothing more is asked
    expect((await app.fhir('POST', 'RiskAssessment', riskAssessment(patient, 'risk-to-self'))).status).toBe(201);
    expect(await requests()).toHaveLength(2);
  });
});

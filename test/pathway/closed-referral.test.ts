import type { CareTeam, OperationOutcome, Parameters, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEPWISE_CANONICAL_BASE } from '../../src/fhir/canonical.js';
import { CARE } from '../../src/pathway/care/codes.js';
import { PATHWAY, TaskCode } from '../../src/pathway/codes.js';
import { searchResources, startIngestApp } from '../mapping/support.js';
import type { TestApp } from '../support/app.js';

/*
 * A referral closed before it was triaged (an MHSDS referral closure through $ingest, or a REST
 * update to completed) no longer waits at the front door: its open triage Task and the call to the
 * referrer are cancelled with the reason. A triage already done stays as it was, and the person's
 * accountable lead is untouched.
 */
describe('a referral closed before triage has its triage cancelled', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startIngestApp();
  });
  afterAll(() => t.close());

  const ingest = async (rows: object) => {
    const res = await t.fhir('POST', '$ingest?format=mhsds-json', JSON.stringify(rows), { 'Content-Type': 'application/json' });
    return { status: res.status, outcome: (await res.json()) as OperationOutcome };
  };
  const search = <T,>(query: string): Promise<T[]> => searchResources<T>(t, query);
  const referralOf = async (mhsdsId: string) => (await search<ServiceRequest>(`ServiceRequest?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-service-request-id|${mhsdsId}`))[0];
  const triageOf = async (referralId: string) => (await search<Task>(`Task?focus=ServiceRequest/${referralId}&code=${PATHWAY.taskCode}|${TaskCode.triage}`))[0];

  it('an MHSDS referral closure cancels the waiting triage Task and its call to the referrer, with a statusReason', async () => {
    expect((await ingest([{ table: 'MHS001MPI', LocalPatientId: 'LP0701', Person_ID: 'LP0701' }, { table: 'MHS101Referral', ServiceRequestId: 'SR0701', LocalPatientId: 'LP0701', ClinRespPriorityType: '3' }])).status).toBe(200);
    const referral = await referralOf('SR0701');
    const waiting = await triageOf(referral.id!);
    expect(['requested', 'on-hold']).toContain(waiting.status);
    const calls = await search<Task>(`Task?part-of=Task/${waiting.id}`);

    const { status } = await ingest({ table: 'MHS102ServiceTypeReferredTo', ServiceRequestId: 'SR0701', ReferClosureDate: '2026-03-02', ReferClosureTime: '17:00:00', ReferClosReason: '02' });
    expect(status).toBe(200);
    expect((await referralOf('SR0701')).status).toBe('completed');
    const closed = await triageOf(referral.id!);
    expect(closed.status).toBe('cancelled');
    expect(closed.statusReason?.text).toBe('The referral was closed (completed) before it was triaged');
    for (const call of calls) expect((await search<Task>(`Task?_id=${call.id}`))[0].status).toBe('cancelled');
  });

  it('a triage already completed stays completed, and the accountable lead it gave stays the one lead', async () => {
    const created = await t.fhir('POST', 'ServiceRequest', {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      priority: 'routine',
      subject: { reference: 'Patient/closed-1' },
      reasonCode: [{ text: 'Low mood' }],
    });
    expect(created.status).toBe(201);
    const referral = (await created.json()) as ServiceRequest;
    const triage = await triageOf(referral.id!);
    const params: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'output',
          part: [
            { name: 'type', valueCodeableConcept: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] } },
            { name: 'value', valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: 'routine-support' }] } },
          ],
        },
      ],
    };
    expect((await t.fhir('POST', `Task/${triage.id}/$complete`, params)).status).toBe(200);
    const leadsBefore = await leads('closed-1');
    expect(leadsBefore).toHaveLength(1);

    const closing = await t.fhir('PUT', `ServiceRequest/${referral.id}`, { ...referral, status: 'completed' });
    expect(closing.status).toBe(200);
    expect((await triageOf(referral.id!)).status).toBe('completed');
    expect(await leads('closed-1')).toEqual(leadsBefore);
  });

  it('a referral closed while a clinician holds its triage Task: the Task is cancelled, not left open', async () => {
    const created = await t.fhir('POST', 'ServiceRequest', { resourceType: 'ServiceRequest', status: 'active', intent: 'order', priority: 'urgent', subject: { reference: 'Patient/closed-2' } });
    const referral = (await created.json()) as ServiceRequest;
    const triage = await triageOf(referral.id!);
    await t.fhir('PUT', 'Practitioner/triage-nurse', { resourceType: 'Practitioner', id: 'triage-nurse' });
    const claim = await t.fhir('POST', `Task/${triage.id}/$claim`, { resourceType: 'Parameters', parameter: [{ name: 'practitioner', valueReference: { reference: 'Practitioner/triage-nurse' } }] });
    expect(claim.status).toBe(200);
    expect((await t.fhir('PUT', `ServiceRequest/${referral.id}`, { ...referral, status: 'completed' })).status).toBe(200);
    const closed = await triageOf(referral.id!);
    expect(closed.status).toBe('cancelled');
    expect(closed.statusReason?.text).toMatch(/closed/);
  });

  async function leads(patient: string): Promise<string[]> {
    const teams = await search<CareTeam>(`CareTeam?subject=Patient/${patient}`);
    return teams.flatMap((team) => (team.participant ?? []).filter((p) => p.role?.some((r) => r.coding?.some((c) => c.system === CARE.careTeamRole && c.code === 'accountable-lead'))).map((p) => p.member!.reference!));
  }
});

import type { Bundle, CapabilityStatement, OperationOutcome, Parameters, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHWAY } from '../../src/pathway/codes.js';
import { admitReferral } from '../../src/pathway/front-door.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { teamExtension, teamOf } from '../../src/pathway/tasks/team.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { completeContext, indicator, serviceRequest } from './builders.js';

const TEAM = { reference: 'Organization/team-a' };
const ASHA = { reference: 'Practitioner/asha' };
const BEN = { reference: 'Practitioner/ben' };

/** A Task, or the OperationOutcome of a refusal. */
type Answer = Omit<Task, 'resourceType'> & Omit<OperationOutcome, 'resourceType' | 'id'> & { resourceType: string };

const params = (...parameter: Parameters['parameter'] & object): Parameters => ({ resourceType: 'Parameters', parameter });
const by = (who: { reference: string }) => params({ name: 'practitioner', valueReference: who });
const triageOutcome = (code: string) => ({
  name: 'output',
  part: [
    { name: 'type', valueCodeableConcept: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] } },
    { name: 'value', valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code }] } },
  ],
});

/** A pathway Task waiting in team A's queue. */
function queuedTask(id: string, code: string, overrides: Partial<Task> = {}): Task {
  return {
    resourceType: 'Task',
    id,
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [{ system: PATHWAY.taskCode, code }] },
    authoredOn: '2026-03-02T08:00:00Z',
    owner: TEAM,
    extension: [teamExtension(TEAM)],
    restriction: { period: { end: '2026-03-03T08:00:00Z' } },
    ...overrides,
  };
}

describe('Task operations for people working queues', () => {
  let t: TestApp;
  const op = async (id: string, name: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await t.fhir('POST', `Task/${id}/$${name}`, body, headers);
    return { status: res.status, etag: res.headers.get('etag'), body: (await res.json()) as Answer };
  };
  const issue = (body: Answer) => body.issue![0];

  beforeAll(async () => {
    t = await startTestApp();
    for (const r of [
      { resourceType: 'Organization', id: 'team-a', name: 'Team A' },
      { resourceType: 'Practitioner', id: 'asha', name: [{ family: 'Rao', given: ['Asha'] }] },
      { resourceType: 'Practitioner', id: 'ben', name: [{ family: 'Okafor', given: ['Ben'] }] },
      queuedTask('claim-me', 'triage'),
      queuedTask('held', 'triage'),
      queuedTask('triage-1', 'triage'),
      queuedTask('proposed-1', 'triage', {
        output: [{ type: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] }, valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: 'routine-support' }] } }],
      }),
      queuedTask('redirect-1', 'triage', { businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'redirected' }] } }),
      queuedTask('call-1', 'clarify-referral'),
      queuedTask('reject-me', 'clarify-referral'),
      queuedTask('done', 'clarify-referral', { status: 'completed' }),
    ]) {
      const res = await t.fhir('PUT', `${r.resourceType}/${r.id}`, r);
      expect(res.status, `${r.resourceType}/${r.id}`).toBe(201);
    }
  });
  afterAll(() => t.close());

  it('claims a Task: the person becomes its owner, it is received, and its team stays in task-team', async () => {
    const res = await op('claim-me', 'claim', by(ASHA));
    expect(res.status).toBe(200);
    expect(res.etag).toBe('W/"2"');
    expect(res.body.owner).toEqual(ASHA);
    expect(res.body.status).toBe('received');
    expect(res.body.extension).toEqual([teamExtension(TEAM)]);
  });

  it('answers a repeated claim by the holder 200 without a new version', async () => {
    const res = await op('claim-me', 'claim', by(ASHA));
    expect(res.status).toBe(200);
    expect(res.body.meta?.versionId).toBe('2');
  });

  it('refuses a claim of a Task someone else holds: 409 naming the holder', async () => {
    const res = await op('claim-me', 'claim', by(BEN));
    expect(res.status).toBe(409);
    expect(issue(res.body).diagnostics).toContain('Practitioner/asha');
    expect(issue(res.body).expression).toEqual(['Task.owner']);
  });

  it('honours If-Match: a claim based on an old version is 412', async () => {
    const res = await op('held', 'claim', by(BEN), { 'If-Match': 'W/"7"' });
    expect(res.status).toBe(412);
    expect((await op('held', 'claim', by(BEN), { 'If-Match': 'W/"1"' })).status).toBe(200);
  });

  it('accepts by the holder only, and releases back to the team', async () => {
    expect((await op('held', 'accept', by(ASHA))).status).toBe(409);
    const accepted = await op('held', 'accept', by(BEN));
    expect([accepted.status, accepted.body.status]).toEqual([200, 'accepted']);
    const released = await op('held', 'release');
    expect(released.status).toBe(200);
    expect(released.body.owner).toEqual(TEAM);
    expect(released.body.status).toBe('requested');
    const unclaimed = await op('held', 'accept');
    expect(unclaimed.status).toBe(409);
    expect(issue(unclaimed.body).diagnostics).toContain('claim it');
  });

  it('lists the per-team and per-person queues', async () => {
    const ids = async (q: string) => (((await (await t.fhir('GET', `Task?${q}&_sort=priority-rank,due`)).json()) as Bundle).entry ?? []).map((e) => e.resource!.id).sort();
    expect(await ids('owner=Practitioner/asha&status=requested,received,accepted,ready,in-progress,on-hold')).toEqual(['claim-me']);
    expect(await ids('team=Organization/team-a&status=received')).toEqual(['claim-me']);
    expect(await ids('team=Organization/team-a&status=completed')).toEqual(['done']);
  });

  it('rejects only with a reason (422 naming the parameter), which becomes statusReason', async () => {
    const missing = await op('reject-me', 'reject', params());
    expect(missing.status).toBe(422);
    expect(issue(missing.body).expression).toEqual(["Parameters.parameter.where(name = 'reason')"]);
    const res = await op('reject-me', 'reject', params({ name: 'reason', valueString: 'Not for this team' }));
    expect([res.status, res.body.status, res.body.statusReason?.text]).toEqual([200, 'rejected', 'Not for this team']);
  });

  it('refuses to move a final Task, naming where it can go', async () => {
    const res = await op('done', 'reject', params({ name: 'reason', valueString: 'late' }));
    expect(res.status).toBe(409);
    expect(issue(res.body).expression).toEqual(['Task.status']);
    expect(issue(res.body).diagnostics).toContain("'entered-in-error'");
    expect((await op('done', 'complete')).status).toBe(409);
  });

  it('completes a triage only with its triage outcome, copying the outputs given into Task.output', async () => {
    const missing = await op('triage-1', 'complete', params());
    expect(missing.status).toBe(422);
    expect(issue(missing.body).diagnostics).toContain('triage-outcome');
    expect(issue(missing.body).expression).toEqual(["Parameters.parameter.where(name = 'output')"]);
    const res = await op('triage-1', 'complete', params(triageOutcome('routine-support'), { name: 'note', valueString: 'Seen by the duty worker' }));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    expect(res.body.output?.[0].valueCodeableConcept?.coding?.[0].code).toBe('routine-support');
    expect(res.body.note?.[0].text).toBe('Seen by the duty worker');
    // the write policies ran: a completed triage records its time to triage
    expect(res.body.extension?.some((e) => e.url === PATHWAY.timeToTriage)).toBe(true);
  });

  it("replaces the rules' proposed outcome with the clinician's: one triage outcome, the one decided", async () => {
    const res = await op('proposed-1', 'complete', params(triageOutcome('intensive-input')));
    expect(res.status).toBe(200);
    const outcomes = (res.body.output ?? []).filter((o) => o.type.coding?.[0].code === 'triage-outcome');
    expect(outcomes.map((o) => o.valueCodeableConcept?.coding?.[0].code)).toEqual(['intensive-input']);
  });

  it('completes a redirected triage only with the redirect parts', async () => {
    const res = await op('redirect-1', 'complete', params(triageOutcome('redirected')));
    expect(res.status).toBe(422);
    expect(res.body.issue).toHaveLength(3);
    expect(issue(res.body).expression).toEqual(['Task.output']);
  });

  it('completes a call to the referrer with nothing required', async () => {
    const res = await op('call-1', 'complete');
    expect([res.status, res.body.status]).toEqual([200, 'completed']);
  });

  it.each([
    ['a body that is not Parameters', 'claim', { resourceType: 'Patient' }, 400, 'resourceType'],
    ['an unknown parameter', 'claim', params({ name: 'who', valueString: 'me' }), 400, 'Parameters.parameter[0].name'],
    ['a practitioner that is not a person', 'claim', params({ name: 'practitioner', valueReference: { reference: 'Patient/p1' } }), 400, 'Parameters.parameter[0].value'],
    ['a practitioner given twice', 'claim', params({ name: 'practitioner', valueReference: ASHA }, { name: 'practitioner', valueReference: BEN }), 400, 'Parameters.parameter[1]'],
    ['no practitioner', 'claim', params(), 422, "Parameters.parameter.where(name = 'practitioner')"],
    ['a practitioner the server does not know', 'claim', by({ reference: 'Practitioner/nobody' }), 422, 'Parameters.parameter[0].value'],
    ['an output without a value', 'complete', params({ name: 'output', part: [triageOutcome('x').part[0]] }), 400, 'Parameters.parameter[0].part'],
    ['a blank reason', 'reject', params({ name: 'reason', valueString: ' ' }), 400, 'Parameters.parameter[0].value'],
  ])('answers %s with an OperationOutcome at its place', async (_what, name, body, status, expression) => {
    const res = await op('call-1', name, body);
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(issue(res.body).expression).toEqual([expression]);
  });

  it('answers 404 for a Task that is not there', async () => {
    expect((await op('nope', 'claim', by(ASHA))).status).toBe(404);
  });

  it('declares the five operations on Task in the CapabilityStatement', async () => {
    const cs = (await (await t.fhir('GET', 'metadata')).json()) as CapabilityStatement;
    const task = cs.rest![0].resource!.find((r) => r.type === 'Task')!;
    expect(task.operation?.map((o) => o.name)).toEqual(expect.arrayContaining(['claim', 'release', 'accept', 'reject', 'complete']));
  });
});

describe('the front door gives every Task it opens its team', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await seedPathwayData(t.store);
    const base = completeContext({ related: [] });
    await t.store.transaction(async (tx) => {
      for (const r of [base.patient!, base.requester!]) await tx.update(r);
      await tx.update(serviceRequest({ id: 'sr-crisis', reasonCode: [indicator('imminent-risk')] }));
      await tx.update(serviceRequest({ id: 'sr-gaps', reasonCode: [{ text: 'low mood' }], subject: undefined }));
    });
    for (const id of ['sr-crisis', 'sr-gaps']) await admitReferral(t.store, { serviceRequestId: id }, { clock: t.clock });
  });
  afterAll(() => t.close());

  it('stamps task-team with the owning team, so the team queue finds the Task after a claim', async () => {
    const tasks = ((await (await t.fhir('GET', 'Task?_count=50')).json()) as Bundle).entry!.map((e) => e.resource as Task);
    expect(tasks.length).toBeGreaterThanOrEqual(3);
    for (const task of tasks) expect(teamOf(task), task.description).toEqual(task.owner);
    const crisis = tasks.find((x) => x.focus?.reference === 'ServiceRequest/sr-crisis')!;
    await t.store.update({ resourceType: 'Practitioner', id: 'asha' });
    const claim = await t.fhir('POST', `Task/${crisis.id}/$claim`, params({ name: 'practitioner', valueReference: ASHA }));
    expect(claim.status).toBe(200);
    const queue = (await (await t.fhir('GET', `Task?team=${crisis.owner!.reference}&_sort=priority-rank,due`)).json()) as Bundle;
    expect(queue.entry!.map((e) => [e.resource!.id, (e.resource as Task).owner?.reference])).toEqual([[crisis.id, 'Practitioner/asha']]);
  });
});

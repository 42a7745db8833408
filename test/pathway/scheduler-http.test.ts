import type { Bundle, CarePlan, CareTeam, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadParticipant } from '../../src/pathway/care/care-team.js';
import { CARE, CareActivity } from '../../src/pathway/care/codes.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { runDueJobs } from '../../src/pathway/scheduler/run.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** The scheduler's policies hold on the REST routes: a care plan PUT schedules, a contact PUT failed starts the ladder. */
describe('time-driven pathway work over REST', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const json = async <T>(res: Response) => (await res.json()) as T;

  it('a care plan written over REST makes its contacts; a contact PUT failed gets its same-day call, time-stamped', async () => {
    expect((await t.fhir('PUT', 'Patient/http-pat', { resourceType: 'Patient', id: 'http-pat', name: [{ family: 'Doe' }] })).status).toBeLessThan(300);
    expect((await t.fhir('PUT', 'Practitioner/http-lead', { resourceType: 'Practitioner', id: 'http-lead', name: [{ family: 'Lead' }] })).status).toBeLessThan(300);
    const team: CareTeam = { resourceType: 'CareTeam', id: 'http-team', status: 'active', subject: { reference: 'Patient/http-pat' }, participant: [leadParticipant({ reference: 'Practitioner/http-lead' }, '2026-03-02T09:00:00Z')] };
    expect((await t.fhir('PUT', 'CareTeam/http-team', team)).status).toBeLessThan(300);
    const plan: CarePlan = {
      resourceType: 'CarePlan',
      id: 'http-plan',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/http-pat' },
      category: [{ coding: [{ system: PATHWAY.levelOfSupport, code: 'ongoing-care' }] }],
      period: { start: '2026-03-02T09:00:00Z' },
      careTeam: [{ reference: 'CareTeam/http-team' }],
      activity: [{ detail: { status: 'scheduled', code: { coding: [{ system: CARE.careActivity, code: CareActivity.weeklyWellbeingContact }] }, scheduledTiming: { repeat: { frequency: 1, period: 1, periodUnit: 'wk' } } } }],
    };
    const put = await t.fhir('PUT', 'CarePlan/http-plan', plan);
    expect(put.status).toBeLessThan(300);
    await runDueJobs(t.store, t.clock.now());

    const contacts = await json<Bundle<Task>>(await t.fhir('GET', `Task?based-on=CarePlan/http-plan&code=${PATHWAY.taskCode}|contact`));
    expect(contacts.entry).toHaveLength(1);
    const contact = contacts.entry![0].resource!;
    t.clock.set(new Date('2026-03-02T11:00:00Z'));
    const failed = await t.fhir('PUT', `Task/${contact.id}`, { ...contact, status: 'failed', statusReason: { text: 'Did not answer the door' } });
    expect(failed.status).toBe(200);
    expect((await json<Task>(failed)).executionPeriod?.end).toBe('2026-03-02T11:00:00.000Z');

    const ladder = await json<Bundle<Task>>(await t.fhir('GET', `Task?focus=Task/${contact.id}`));
    expect(ladder.entry?.map((e) => [e.resource!.code?.coding?.[0]?.code, e.resource!.restriction?.period?.end])).toEqual([['outreach-call', '2026-03-02T23:59:59.000Z']]);
    // overdue is a search: the call is past due once the day ends
    t.clock.set(new Date('2026-03-03T08:00:00Z'));
    const overdue = await json<Bundle<Task>>(await t.fhir('GET', `Task?focus=Task/${contact.id}&status=ready&due=lt2026-03-03T08:00:00Z`));
    expect(overdue.entry).toHaveLength(1);
  });
});

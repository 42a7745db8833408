import type { Flag, Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CareActivity } from '../../src/pathway/care/codes.js';
import { ContactOutcome, outcomeOf } from '../../src/pathway/outreach/outcome.js';

import { runDueJobs } from '../../src/pathway/scheduler/run.js';
import { pathwayStore, type PathwayTestStore } from './support.js';
import { codeOf, personInCare, recordOutcome, riskFlag, tasks, tasksCoded, write, type Person } from './scheduler-support.js';
import { TaskCode } from '../../src/pathway/codes.js';

const HOUR = 3_600_000;

describe('the outreach ladder', () => {
  let p: PathwayTestStore;
  beforeEach(async () => {
    p = await pathwayStore();
  });
  afterEach(() => p.t.dispose());

  const run = () => runDueJobs(p.store, p.clock.now());
  const at = async (iso: string) => {
    p.clock.set(new Date(iso));
    await run();
  };
  /** The steps taken after a missed contact, in order (each carries the contact as its focus). */
  const ladderOf = async (contact: Task) => (await tasks(p.store, [['focus', `Task/${contact.id}`]])).filter((t) => codeOf(t) !== TaskCode.escalation).sort((x, y) => x.authoredOn!.localeCompare(y.authoredOn!));
  const escalationsOf = (contact: Task) => tasksCoded(p.store, TaskCode.escalation, [['focus', `Task/${contact.id}`]]);
  const openContact = async (person: Person) => (await tasksCoded(p.store, TaskCode.contact, [['based-on', `CarePlan/${person.plan.id}`], ['status', 'ready']]))[0];

  it('each failure takes the next step: same-day call, next-day home visit, partner contact; without risk indicators it ends there', async () => {
    const person = await personInCare(p.store, 'l1', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await run();
    const contact = await openContact(person);
    p.clock.set(new Date('2026-03-02T10:00:00Z'));
    const missed = await recordOutcome(p.store, contact, 'missed');
    expect(missed.executionPeriod).toEqual({ start: '2026-03-02T10:00:00.000Z', end: '2026-03-02T10:00:00.000Z' });
    expect(outcomeOf(missed)).toBe(ContactOutcome.didNotAttend);

    let ladder = await ladderOf(contact);
    expect(ladder.map(codeOf)).toEqual(['outreach-call']);
    expect(ladder[0]).toMatchObject({
      status: 'ready',
      partOf: [{ reference: `Task/${contact.id}` }],
      owner: { reference: `Practitioner/${person.lead.id}` },
      restriction: { period: { start: '2026-03-02T10:00:00.000Z', end: '2026-03-02T23:59:59.000Z' } },
    });

    // the call is not made by the end of the day: it fails then, and the home visit is due the next working day
    await at('2026-03-03T00:00:00Z');
    ladder = await ladderOf(contact);
    expect(ladder.map((t) => [codeOf(t), t.status, outcomeOf(t)])).toEqual([
      ['outreach-call', 'failed', ContactOutcome.notDoneInTime],
      ['outreach-home-visit', 'ready', undefined],
    ]);
    expect(ladder[0].executionPeriod!.end).toBe('2026-03-02T23:59:59.000Z');
    expect(ladder[1].restriction!.period!.end).toBe('2026-03-03T23:59:59.000Z');

    // the worker visits: nobody at home
    p.clock.set(new Date('2026-03-03T14:00:00Z'));
    await recordOutcome(p.store, ladder[1], 'did-not-attend');
    ladder = await ladderOf(contact);
    expect(ladder.map(codeOf)).toEqual(['outreach-call', 'outreach-home-visit', 'outreach-partner-contact']);
    expect(ladder[1].executionPeriod!.end).toBe('2026-03-03T14:00:00.000Z');
    expect(ladder[2].restriction!.period!.end).toBe('2026-03-04T23:59:59.000Z');

    await at('2026-03-05T00:00:00Z');
    ladder = await ladderOf(contact);
    expect(ladder.map((t) => t.status)).toEqual(['failed', 'completed', 'failed']);
    expect(await escalationsOf(contact)).toEqual([]);
    // every attempt is time-stamped with its outcome
    for (const t of [missed, ...ladder]) {
      expect(t.executionPeriod?.end).toBeDefined();
      expect(outcomeOf(t)).toBeDefined();
    }
  });

  it('with a high-risk flag the failed partner contact opens one same-day escalation of the missed contact', async () => {
    const person = await personInCare(p.store, 'l2', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await write(p.store, riskFlag(person.patient.id, 'relapse-signature', 'PH'));
    await run();
    const contact = await openContact(person);
    await recordOutcome(p.store, contact, 'missed');
    for (const step of ['outreach-call', 'outreach-home-visit', 'outreach-partner-contact']) {
      const open = (await ladderOf(contact)).find((t) => codeOf(t) === step)!;
      p.clock.advance(HOUR);
      await recordOutcome(p.store, open, 'missed');
    }
    const escalations = await escalationsOf(contact);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ status: 'requested', priority: 'asap', for: { reference: `Patient/${person.patient.id}` }, owner: { reference: `Practitioner/${person.lead.id}` } });
    expect(escalations[0].description).toContain('missed contact');
    // due the same day (within 4 hours)
    expect(Date.parse(escalations[0].restriction!.period!.end!) - p.clock.now().getTime()).toBeLessThanOrEqual(4 * HOUR);
    // the deadline jobs of the failed steps find them closed and add nothing
    p.clock.advance(3 * 24 * HOUR);
    await run();
    expect(await escalationsOf(contact)).toHaveLength(1);
    expect((await ladderOf(contact)).length).toBe(3);
  });

  it('a contact made, or a step that reaches the person, ends the ladder; its deadline then does nothing', async () => {
    const person = await personInCare(p.store, 'l3', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await run();
    const first = await openContact(person);
    const made = await recordOutcome(p.store, first, 'made');
    expect(outcomeOf(made)).toBe(ContactOutcome.made);
    expect(await ladderOf(first)).toEqual([]);

    p.clock.advance(7 * 24 * HOUR);
    await run();
    const second = await openContact(person);
    await recordOutcome(p.store, second, 'did-not-attend');
    const [call] = await ladderOf(second);
    await recordOutcome(p.store, call, 'made');
    p.clock.advance(2 * 24 * HOUR);
    await run();
    expect((await ladderOf(second)).map((t) => [codeOf(t), t.status, outcomeOf(t)])).toEqual([['outreach-call', 'completed', ContactOutcome.made]]);
  });

  it('a missed contact takes its next step once, however often it is saved again', async () => {
    const person = await personInCare(p.store, 'l4', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await run();
    const contact = await openContact(person);
    const missed = await recordOutcome(p.store, contact, 'missed');
    await write(p.store, { ...missed, note: [{ text: 'Left a voicemail' }] });
    await write(p.store, { ...((await p.store.read('Task', contact.id!)) as Task), note: [{ text: 'Left two voicemails' }] });
    expect((await ladderOf(contact)).map(codeOf)).toEqual(['outreach-call']);
  });

  it('a contact missed on a Friday has its home visit on Monday, the next working day', async () => {
    p.clock.set(new Date('2026-03-06T09:00:00Z'));
    const person = await personInCare(p.store, 'l5', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await run();
    const contact = await openContact(person);
    p.clock.set(new Date('2026-03-06T11:00:00Z'));
    await recordOutcome(p.store, contact, 'missed');
    const [call] = await ladderOf(contact);
    p.clock.set(new Date('2026-03-06T15:00:00Z'));
    await recordOutcome(p.store, call, 'missed');
    const visit = (await ladderOf(contact)).find((t) => codeOf(t) === 'outreach-home-visit')!;
    expect(visit.restriction!.period!.end).toBe('2026-03-09T23:59:59.000Z');
  });

  /**
   * Seed 000, operational example 1: a person with psychosis and repeated relapses, in ongoing care
   * with a weekly wellbeing contact and a monthly structured review, the relapse signature in a
   * live risk plan. Missed contacts follow the outreach ladder; records show every attempt and a
   * time-stamped escalation when risk indicators are present.
   */
  it('scenario: repeated relapse cycles with the outreach ladder', async () => {
    const person = await personInCare(p.store, 'relapse');
    const signature = await write(p.store, riskFlag(person.patient.id, 'relapse-signature', 'PM'));
    await run();
    const contactsByWeek = async () => (await tasksCoded(p.store, TaskCode.contact, [['based-on', `CarePlan/${person.plan.id}`]])).sort((x, y) => x.restriction!.period!.start!.localeCompare(y.restriction!.period!.start!));
    const weekly = async (n: number) => (await contactsByWeek()).filter((t) => t.reasonCode?.coding?.[0]?.code === CareActivity.weeklyWellbeingContact)[n];

    // week 1: contact made
    await recordOutcome(p.store, await weekly(0), 'made');
    // week 2: missed; the same-day call reaches the person, and the ladder stops
    await at('2026-03-09T09:00:00Z');
    const week2 = await weekly(1);
    p.clock.set(new Date('2026-03-09T12:00:00Z'));
    await recordOutcome(p.store, week2, 'did-not-attend');
    p.clock.set(new Date('2026-03-09T16:00:00Z'));
    await recordOutcome(p.store, (await ladderOf(week2))[0], 'made');
    // week 3: contact made
    await at('2026-03-16T09:00:00Z');
    await recordOutcome(p.store, await weekly(2), 'made');

    // week 4, relapse: missed; no answer to the call, nobody home the next day
    await at('2026-03-23T09:00:00Z');
    const week4 = await weekly(3);
    p.clock.set(new Date('2026-03-23T13:00:00Z'));
    await recordOutcome(p.store, week4, 'missed');
    p.clock.set(new Date('2026-03-23T17:00:00Z'));
    await recordOutcome(p.store, (await ladderOf(week4))[0], 'missed');
    p.clock.set(new Date('2026-03-24T11:00:00Z'));
    await recordOutcome(p.store, (await ladderOf(week4))[1], 'did-not-attend');
    // the sister says he is not sleeping and has stopped his medication: the relapse signature is now high risk
    p.clock.set(new Date('2026-03-24T15:00:00Z'));
    await write(p.store, { ...((await p.store.read('Flag', signature.id)) as Flag), extension: riskFlag(person.patient.id, 'relapse-signature', 'PH').extension });
    // the partner contact is not completed by the end of the next working day: it fails, and the ladder escalates
    await at('2026-03-26T00:00:00Z');
    const ladder4 = await ladderOf(week4);
    expect(ladder4.map((t) => [codeOf(t), t.status, outcomeOf(t), t.executionPeriod?.end])).toEqual([
      ['outreach-call', 'failed', ContactOutcome.didNotAttend, '2026-03-23T17:00:00.000Z'],
      ['outreach-home-visit', 'completed', ContactOutcome.didNotAttend, '2026-03-24T11:00:00.000Z'],
      ['outreach-partner-contact', 'failed', ContactOutcome.notDoneInTime, '2026-03-25T23:59:59.000Z'],
    ]);
    const escalations = await escalationsOf(week4);
    expect(escalations).toHaveLength(1);
    expect(escalations[0].authoredOn).toBe('2026-03-26T00:00:00.000Z');
    expect(escalations[0].input?.map((i) => i.valueString).join(' ')).toContain('relapse-signature');

    // the next relapse cycle: week 6 missed, the call reaches him; a new ladder, ended at its first step
    await at('2026-04-06T09:00:00Z');
    const week6 = await weekly(5);
    await recordOutcome(p.store, week6, 'missed');
    await recordOutcome(p.store, (await ladderOf(week6))[0], 'made');
    expect((await ladderOf(week6)).map(codeOf)).toEqual(['outreach-call']);
    expect(await escalationsOf(week6)).toEqual([]);

    // the records: weekly contacts on their day, monthly structured reviews, one ladder per missed contact
    const contacts = await contactsByWeek();
    expect(contacts.filter((t) => t.reasonCode?.coding?.[0]?.code === CareActivity.weeklyWellbeingContact)).toHaveLength(6);
    expect(contacts.filter((t) => t.reasonCode?.coding?.[0]?.code === CareActivity.monthlyStructuredReview).map((t) => t.restriction!.period!.start)).toEqual([
      '2026-03-02T09:00:00.000Z',
      '2026-04-02T08:00:00.000Z',
    ]);
    expect((await ladderOf(week2)).length + (await ladderOf(week4)).length + (await ladderOf(week6)).length).toBe(5);
  });
});

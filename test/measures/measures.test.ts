import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHWAY, TaskCode } from '../../src/pathway/codes.js';
import { databaseFactories } from '../support/databases.js';
import { counts, CRISIS, measureStore, minutes, NORTH, outcome, strataValues, task, type MeasureTestStore } from './support.js';

/**
 * Each measure on a constructed history, evaluated on 10 April 2026 for March 2026 (London days:
 * 1 March 00:00 UTC to 31 March 23:00 UTC, clocks going forward on the 29th). The answers are
 * worked out by hand in the comments; each scenario has a database of its own. Every scenario runs
 * on PGlite and on PostgreSQL.
 */
describe.each(databaseFactories)('pathway measures on %s', (_name, open) => {
  let m: MeasureTestStore;

  describe('time to triage', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      const triage = (id: string, f: Parameters<typeof task>[2]) => m.put(task(id, TaskCode.triage, f));
      // T1 urgent, received 2 Mar 09:00, due 3 Mar 09:00, triaged 11:00: 120 min, within
      await triage('t1', { patient: 'Patient/p1', team: NORTH, priority: 'urgent', status: 'completed', authored: '2026-03-02T09:00:00Z', due: '2026-03-03T09:00:00Z', ended: '2026-03-02T11:00:00Z' });
      // T2 routine, received 3 Mar 10:00, due in 4 weeks, triaged 5 Mar 10:00: 2880 min, within
      await triage('t2', { patient: 'Patient/p2', team: NORTH, priority: 'routine', status: 'completed', authored: '2026-03-03T10:00:00Z', due: '2026-03-31T10:00:00Z', ended: '2026-03-05T10:00:00Z' });
      // T3 stat, received 4 Mar 09:00, due 13:00, triaged 15:00: 360 min, late
      await triage('t3', { patient: 'Patient/p3', team: CRISIS, priority: 'stat', status: 'completed', authored: '2026-03-04T09:00:00Z', due: '2026-03-04T13:00:00Z', ended: '2026-03-04T15:00:00Z' });
      // T4 urgent, received 10 Mar, due 11 Mar, still on hold on 10 April: late, no observation
      await triage('t4', { patient: 'Patient/p4', team: NORTH, priority: 'urgent', status: 'on-hold', authored: '2026-03-10T09:00:00Z', due: '2026-03-11T09:00:00Z' });
      // T5 routine, received 30 Mar, due 27 April, waiting: not yet due, excluded
      await triage('t5', { patient: 'Patient/p5', team: NORTH, priority: 'routine', status: 'requested', authored: '2026-03-30T09:00:00Z', due: '2026-04-27T09:00:00Z' });
      // T6 routine, withdrawn (cancelled): excluded
      await triage('t6', { patient: 'Patient/p6', team: NORTH, priority: 'routine', status: 'cancelled', authored: '2026-03-05T09:00:00Z', due: '2026-04-02T09:00:00Z' });
      // T7 received in February: not in the period
      await triage('t7', { patient: 'Patient/p7', team: NORTH, priority: 'urgent', status: 'completed', authored: '2026-02-27T09:00:00Z', due: '2026-02-28T09:00:00Z', ended: '2026-03-01T10:00:00Z' });
      // T8 urgent, received 20 Mar, due 21 Mar, triaged 2 April (after the period, before evaluation): 18,720 min, late
      await triage('t8', { patient: 'Patient/p8', team: CRISIS, priority: 'urgent', status: 'completed', authored: '2026-03-20T09:00:00Z', due: '2026-03-21T09:00:00Z', ended: '2026-04-02T09:00:00Z' });
    });
    afterAll(() => m.dispose());

    it('share within standard: T1..T6, T8 received; T5 (not yet due) and T6 (withdrawn) excluded; T1, T2 within: 2 / (7 - 2) = 0.4', async () => {
      const r = await m.evaluate('time-to-triage');
      expect(r.type).toBe('summary');
      expect(counts(r)).toEqual({ ip: 7, den: 7, excl: 2, num: 2, score: 0.4 });
    });

    it('median and 90th percentile over the triaged: 120, 360, 2880, 18720 min', async () => {
      const r = await m.evaluate('time-to-triage');
      // median of four: (360 + 2880) / 2 = 1620; p90: rank 0.9 × 3 = 2.7, 2880 + 0.7 × (18720 − 2880) = 13968
      expect(minutes(r, 'median-minutes')).toBe(1620);
      expect(minutes(r, 'p90-minutes')).toBe(13968);
    });

    it('strata by team and priority', async () => {
      const r = await m.evaluate('time-to-triage');
      // north: T1, T2, T4, T5, T6; excluded T5, T6; within T1, T2 → 2/3
      expect(counts(r, ['team', NORTH])).toEqual({ ip: 5, den: 5, excl: 2, num: 2, score: 0.6667 });
      // crisis: T3, T8, both late → 0/2
      expect(counts(r, ['team', CRISIS])).toEqual({ ip: 2, den: 2, excl: 0, num: 0, score: 0 });
      // north's median of 120 and 2880 = 1500; crisis: 360 and 18720 → 9540
      expect(minutes(r, 'median-minutes', ['team', NORTH])).toBe(1500);
      expect(minutes(r, 'median-minutes', ['team', CRISIS])).toBe(9540);
      // urgent: T1 within, T4 and T8 late → 1/3; routine: T2 within, T5 and T6 excluded → 1/1; stat: T3 late → 0/1
      expect(counts(r, ['priority', 'urgent'])).toEqual({ ip: 3, den: 3, excl: 0, num: 1, score: 0.3333 });
      expect(counts(r, ['priority', 'routine'])).toEqual({ ip: 3, den: 3, excl: 2, num: 1, score: 1 });
      expect(counts(r, ['priority', 'stat'])).toEqual({ ip: 1, den: 1, excl: 0, num: 0, score: 0 });
    });

    it('subject makes an individual report about one person; team limits to one team', async () => {
      const one = await m.evaluate('time-to-triage', { subject: 'Patient/p3' });
      expect(one.type).toBe('individual');
      expect(one.subject).toEqual({ reference: 'Patient/p3' });
      expect(counts(one)).toEqual({ ip: 1, den: 1, excl: 0, num: 0, score: 0 });
      const north = await m.evaluate('time-to-triage', { team: NORTH });
      expect(counts(north)).toEqual({ ip: 5, den: 5, excl: 2, num: 2, score: 0.6667 });
      expect(strataValues(north, 'team')).toEqual([NORTH]);
    });

    it('a period with nothing in it has zero populations and no score', async () => {
      const r = await m.evaluate('time-to-triage', { periodStart: '2025-01-01', periodEnd: '2025-01-31' });
      expect(counts(r)).toEqual({ ip: 0, den: 0, excl: 0, num: 0 });
      expect(minutes(r, 'median-minutes')).toBeUndefined();
    });
  });

  describe('a fact not recorded', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      // completed without the completion time the server stamps (written before the stamp existed): not known to be within standard
      await m.put(task('u1', TaskCode.triage, { patient: 'Patient/p1', team: NORTH, priority: 'urgent', status: 'completed', authored: '2026-03-02T09:00:00Z', due: '2026-03-03T09:00:00Z' }));
    });
    afterAll(() => m.dispose());

    it('neither excludes the case nor counts it within standard: 0 / 1, and no minutes', async () => {
      const r = await m.evaluate('time-to-triage');
      expect(counts(r)).toEqual({ ip: 1, den: 1, excl: 0, num: 0, score: 0 });
      expect(minutes(r, 'median-minutes')).toBeUndefined();
    });
  });

  describe('minimum-dataset compliance', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      const triage = (id: string, patient: string, status: 'requested' | 'on-hold' | 'entered-in-error' | 'cancelled', authored: string) =>
        m.put(task(id, TaskCode.triage, { patient, team: NORTH, priority: 'routine', status, authored, due: '2026-04-30T09:00:00Z' }));
      const clarify = (id: string, of: string, patient: string, authored: string) => m.put(task(id, TaskCode.clarify, { patient, team: NORTH, status: 'requested', authored, partOf: `Task/${of}` }));
      // M1 held for a gap (a call to the referrer partOf it); M2 complete; M3 entered in error; M4 withdrawn after a gap; M5 February
      await triage('m1', 'Patient/p1', 'on-hold', '2026-03-02T09:00:00Z');
      await clarify('m1-call', 'm1', 'Patient/p1', '2026-03-02T09:00:00Z');
      await triage('m2', 'Patient/p2', 'requested', '2026-03-03T09:00:00Z');
      await triage('m3', 'Patient/p3', 'entered-in-error', '2026-03-04T09:00:00Z');
      await triage('m4', 'Patient/p4', 'cancelled', '2026-03-05T09:00:00Z');
      await clarify('m4-call', 'm4', 'Patient/p4', '2026-03-05T09:00:00Z');
      await triage('m5', 'Patient/p5', 'requested', '2026-02-20T09:00:00Z');
    });
    afterAll(() => m.dispose());

    it('M1..M4 received; M3 excluded; only M2 arrived complete: 1 / (4 - 1)', async () => {
      expect(counts(await m.evaluate('mds-compliance'))).toEqual({ ip: 4, den: 4, excl: 1, num: 1, score: 0.3333 });
    });
  });

  describe('redirect rate', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      const triage = (id: string, f: Partial<Parameters<typeof task>[2]>) =>
        m.put(task(id, TaskCode.triage, { patient: `Patient/${id}`, team: NORTH, priority: 'routine', status: 'completed', authored: '2026-03-02T09:00:00Z', due: '2026-03-30T09:00:00Z', ...f }));
      // R1 triaged; R2 redirected (businessStatus); R3 redirected by its triage outcome only; R4 completed in February; R5 still open
      await triage('r1', { ended: '2026-03-03T09:00:00Z', businessStatus: 'triaged' });
      await triage('r2', { ended: '2026-03-04T09:00:00Z', businessStatus: 'redirected' });
      await triage('r3', {
        ended: '2026-03-05T09:00:00Z',
        businessStatus: 'awaiting-triage',
        output: [{ type: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] }, valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: 'redirected' }] } }],
      });
      await triage('r4', { authored: '2026-02-02T09:00:00Z', ended: '2026-02-03T09:00:00Z', businessStatus: 'redirected' });
      await triage('r5', { status: 'requested' });
    });
    afterAll(() => m.dispose());

    it('R1..R3 decided in March, R2 and R3 redirected: 2 / 3', async () => {
      expect(counts(await m.evaluate('redirect-rate'))).toEqual({ ip: 3, den: 3, excl: 0, num: 2, score: 0.6667 });
    });
  });

  describe('crisis presentations while awaiting allocation', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      const triage = (id: string, patient: string, priority: 'routine' | 'stat', authored: string, ended?: string) =>
        m.put(task(id, TaskCode.triage, { patient, team: NORTH, priority, status: ended ? 'completed' : 'requested', authored, due: '2026-04-30T09:00:00Z', ended }));
      const escalation = (id: string, patient: string, priority: 'routine' | 'asap', authored: string, status: 'requested' | 'entered-in-error' = 'requested') =>
        m.put(task(id, TaskCode.escalation, { patient, team: NORTH, priority, status, authored, due: '2026-04-30T09:00:00Z' }));
      // C1 waits 2–4 Mar; a same-day escalation on the 3rd: a presentation while waiting
      await triage('c1', 'Patient/p1', 'routine', '2026-03-02T09:00:00Z', '2026-03-04T09:00:00Z');
      await escalation('c1-e', 'Patient/p1', 'asap', '2026-03-03T09:00:00Z');
      // C2 waits 2–3 Mar; a stat referral C2b on the 5th, after allocation (C2b itself is received and waits 5 Mar 09:00–12:00)
      await triage('c2', 'Patient/p2', 'routine', '2026-03-02T09:00:00Z', '2026-03-03T09:00:00Z');
      await triage('c2b', 'Patient/p2', 'stat', '2026-03-05T09:00:00Z', '2026-03-05T12:00:00Z');
      // C3 still waits; a routine escalation and an asap one entered in error: neither is a crisis presentation
      await triage('c3', 'Patient/p3', 'routine', '2026-03-10T09:00:00Z');
      await escalation('c3-e1', 'Patient/p3', 'routine', '2026-03-11T09:00:00Z');
      await escalation('c3-e2', 'Patient/p3', 'asap', '2026-03-12T09:00:00Z', 'entered-in-error');
      // C4 still waits; a stat referral C4b for the same person on the 20th (C4b's own wait holds only routine C4, received before it)
      await triage('c4', 'Patient/p4', 'routine', '2026-03-10T09:00:00Z');
      await triage('c4b', 'Patient/p4', 'stat', '2026-03-20T09:00:00Z');
    });
    afterAll(() => m.dispose());

    it('C1, C2, C2b, C3, C4, C4b received; C1 and C4 saw a crisis while waiting: 2 / 6', async () => {
      expect(counts(await m.evaluate('crisis-while-awaiting'))).toEqual({ ip: 6, den: 6, excl: 0, num: 2, score: 0.3333 });
    });
  });

  describe('time to clinical review after an escalation', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      await m.store.update({ resourceType: 'PractitionerRole', id: 'dr-rao', organization: { reference: CRISIS } });
      const raised = (id: string, authored: string, due: string, extra: Partial<Parameters<typeof task>[2]> = {}) =>
        task(id, TaskCode.escalation, { patient: `Patient/${id}`, team: NORTH, priority: 'asap', status: 'requested', authored, due, ...extra });
      // E1 owned by Dr Rao (crisis team, no task-team): raised 2 Mar 09:00, due 13:00, decided at 11:00 (120 min), a note added next day
      const e1 = raised('e1', '2026-03-02T09:00:00Z', '2026-03-02T13:00:00Z', { team: undefined, owner: 'PractitionerRole/dr-rao' });
      await m.put(e1);
      await m.put({ ...e1, status: 'completed' }, '2026-03-02T11:00:00Z');
      await m.put({ ...e1, status: 'completed', note: [{ text: 'MDT review booked' }] }, '2026-03-03T10:00:00Z');
      // E2 raised 3 Mar 20:00, due 23:59:59, rejected 4 Mar 08:00: 720 min, late
      const e2 = raised('e2', '2026-03-03T20:00:00Z', '2026-03-03T23:59:59Z');
      await m.put(e2);
      await m.put({ ...e2, status: 'rejected' }, '2026-03-04T08:00:00Z');
      // E3 raised 5 Mar, due 13:00, never decided: late; E4 cancelled; E5 due after the evaluation
      await m.put(raised('e3', '2026-03-05T09:00:00Z', '2026-03-05T13:00:00Z'));
      await m.put(raised('e4', '2026-03-06T09:00:00Z', '2026-03-06T13:00:00Z', { status: 'cancelled' }));
      await m.put(raised('e5', '2026-03-31T22:30:00Z', '2026-04-30T09:00:00Z'));
    });
    afterAll(() => m.dispose());

    it('E1..E5 raised; E4 and E5 excluded; only E1 reviewed in time: 1 / 3', async () => {
      expect(counts(await m.evaluate('time-to-clinical-review'))).toEqual({ ip: 5, den: 5, excl: 2, num: 1, score: 0.3333 });
    });

    it('the review time is the first decided version in the history: 120 and 720 min', async () => {
      const r = await m.evaluate('time-to-clinical-review');
      // median (120 + 720) / 2 = 420; p90 120 + 0.9 × 600 = 660
      expect(minutes(r, 'median-minutes')).toBe(420);
      expect(minutes(r, 'p90-minutes')).toBe(660);
    });

    it("an escalation held by a clinician counts for the clinician's organisation", async () => {
      const r = await m.evaluate('time-to-clinical-review');
      expect(counts(r, ['team', CRISIS])).toEqual({ ip: 1, den: 1, excl: 0, num: 1, score: 1 });
      expect(counts(r, ['team', NORTH])).toEqual({ ip: 4, den: 4, excl: 2, num: 0, score: 0 });
    });
  });

  describe('first contact within 72 hours after crisis care', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      const contact = (id: string, f: Partial<Parameters<typeof task>[2]>) => m.put(task(id, TaskCode.firstContact, { patient: `Patient/${id}`, team: NORTH, priority: 'urgent', status: 'ready', ...f }));
      // F1 accepted 2 Mar 09:00, contact made 4 Mar 09:00 (2880 min), due 5 Mar: within
      await contact('f1', { status: 'completed', authored: '2026-03-02T09:00:00Z', due: '2026-03-05T09:00:00Z', ended: '2026-03-04T09:00:00Z', output: outcome('contact-made') });
      // F2 contact made 7 Mar 09:00 (5760 min), due 6 Mar: late
      await contact('f2', { status: 'completed', authored: '2026-03-03T09:00:00Z', due: '2026-03-06T09:00:00Z', ended: '2026-03-07T09:00:00Z', output: outcome('contact-made') });
      // F3 did not attend (completed, not a contact); F4 failed; F5 not yet due at evaluation
      await contact('f3', { status: 'completed', authored: '2026-03-04T09:00:00Z', due: '2026-03-07T09:00:00Z', ended: '2026-03-05T09:00:00Z', output: outcome('did-not-attend') });
      await contact('f4', { status: 'failed', authored: '2026-03-10T09:00:00Z', due: '2026-03-13T09:00:00Z', ended: '2026-03-13T09:00:00Z', output: outcome('did-not-attend') });
      await contact('f5', { authored: '2026-03-30T09:00:00Z', due: '2026-04-12T09:00:00Z' });
    });
    afterAll(() => m.dispose());

    it('F1..F5; F5 excluded; only F1 made contact in time: 1 / 4; time to contact 2880 and 5760 min', async () => {
      const r = await m.evaluate('first-contact-72h');
      expect(counts(r)).toEqual({ ip: 5, den: 5, excl: 1, num: 1, score: 0.25 });
      // median 4320; p90 2880 + 0.9 × 2880 = 5472
      expect(minutes(r, 'median-minutes')).toBe(4320);
      expect(minutes(r, 'p90-minutes')).toBe(5472);
    });
  });

  describe('re-presentation within 30 days of step-down', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      const stepDown = (id: string, authored: string) => m.put(task(id, TaskCode.firstContact, { patient: `Patient/${id}`, team: NORTH, priority: 'urgent', status: 'completed', authored, due: authored, ended: authored }));
      const presents = (id: string, patient: string, code: string, priority: 'routine' | 'asap' | 'stat', authored: string) =>
        m.put(task(id, code, { patient: `Patient/${patient}`, team: CRISIS, priority, status: 'requested', authored, due: '2026-05-01T09:00:00Z' }));
      // S1 stepped down 1 Mar 10:00; same-day escalation 20 Mar: within 30 days
      await stepDown('s1', '2026-03-01T10:00:00Z');
      await presents('s1-x', 's1', TaskCode.escalation, 'asap', '2026-03-20T09:00:00Z');
      // S2 2 Mar 09:00; a stat referral 5 April, after the 30 days (1 April 09:00)
      await stepDown('s2', '2026-03-02T09:00:00Z');
      await presents('s2-x', 's2', TaskCode.triage, 'stat', '2026-04-05T09:00:00Z');
      // S3 20 Mar, nothing yet and its 30 days run to 19 April: excluded
      await stepDown('s3', '2026-03-20T09:00:00Z');
      // S4 25 Mar; a same-day escalation 8 April: within, known though the 30 days are not over
      await stepDown('s4', '2026-03-25T09:00:00Z');
      await presents('s4-x', 's4', TaskCode.escalation, 'asap', '2026-04-08T09:00:00Z');
      // S5 3 Mar; a routine escalation 5 Mar is no crisis
      await stepDown('s5', '2026-03-03T09:00:00Z');
      await presents('s5-x', 's5', TaskCode.escalation, 'routine', '2026-03-05T09:00:00Z');
      // S6 February: not in the period
      await stepDown('s6', '2026-02-20T09:00:00Z');
    });
    afterAll(() => m.dispose());

    it('S1..S5; S3 excluded; S1 and S4 presented again: 2 / 4', async () => {
      const r = await m.evaluate('re-presentation-30d');
      expect(counts(r)).toEqual({ ip: 5, den: 5, excl: 1, num: 2, score: 0.5 });
      expect(r.improvementNotation?.coding?.[0]?.code).toBe('decrease');
    });
  });

  describe('handover checklists complete', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      const handover = (id: string) => task(id, TaskCode.handover, { patient: `Patient/${id}`, team: NORTH, priority: 'routine', status: 'requested', authored: '2026-03-01T09:00:00Z' });
      const accepted = (id: string, at: string) => m.put(task(`${id}-fc`, TaskCode.firstContact, { patient: `Patient/${id}`, team: NORTH, status: 'ready', authored: at, due: at, partOf: `Task/${id}` }));
      const history = async (id: string, acceptedAt: string, completedAt?: string) => {
        const h = handover(id);
        await m.put(h);
        await m.put({ ...h, status: 'accepted' }, acceptedAt);
        await accepted(id, acceptedAt);
        if (completedAt) await m.put({ ...h, status: 'completed' }, completedAt);
      };
      // H1 accepted 2 Mar, completed 10 Mar: within 14 days
      await history('h1', '2026-03-02T09:00:00Z', '2026-03-10T09:00:00Z');
      // H2 accepted 3 Mar, completed 20 Mar: 17 days, late
      await history('h2', '2026-03-03T09:00:00Z', '2026-03-20T09:00:00Z');
      // H3 accepted 5 Mar, still open on 10 April: late
      await history('h3', '2026-03-05T09:00:00Z');
      // H4 accepted 30 Mar, open, its 14 days run to 13 April: excluded
      await history('h4', '2026-03-30T09:00:00Z');
      // H5 asked, never accepted: no step-down to count
      await m.put(handover('h5'));
    });
    afterAll(() => m.dispose());

    it('H1..H4 accepted; H4 excluded; only H1 complete within 14 days: 1 / 3', async () => {
      expect(counts(await m.evaluate('handover-checklist-complete'))).toEqual({ ip: 4, den: 4, excl: 1, num: 1, score: 0.3333 });
    });
  });

  describe('outreach steps on time', () => {
    beforeAll(async () => {
      m = await measureStore(open);
      const step = (id: string, code: string, f: Partial<Parameters<typeof task>[2]>) => m.put(task(id, code, { patient: 'Patient/p1', team: NORTH, priority: 'urgent', status: 'ready', authored: '2026-03-02T10:00:00Z', ...f }));
      // O1 call due end of 2 Mar, made 15:00; O2 visit failed (did not attend) before its due time: both attempted on time
      await step('o1', TaskCode.outreachCall, { status: 'completed', due: '2026-03-02T23:59:59Z', ended: '2026-03-02T15:00:00Z', output: outcome('contact-made') });
      await step('o2', TaskCode.outreachHomeVisit, { status: 'failed', due: '2026-03-03T23:59:59Z', ended: '2026-03-03T18:00:00Z', output: outcome('did-not-attend') });
      // O3 partner contact nobody made: the deadline job failed it at its due time, not-done-in-time
      await step('o3', TaskCode.outreachPartnerContact, { status: 'failed', due: '2026-03-04T23:59:59Z', ended: '2026-03-04T23:59:59Z', output: outcome('not-done-in-time') });
      // O4 call made the morning after its due time: late; O5 cancelled; O6 a cadence contact, not a ladder step
      await step('o4', TaskCode.outreachCall, { status: 'completed', due: '2026-03-05T23:59:59Z', ended: '2026-03-06T10:00:00Z', output: outcome('contact-made') });
      await step('o5', TaskCode.outreachCall, { status: 'cancelled', due: '2026-03-06T23:59:59Z' });
      await step('o6', TaskCode.contact, { status: 'completed', due: '2026-03-06T23:59:59Z', ended: '2026-03-06T10:00:00Z' });
    });
    afterAll(() => m.dispose());

    it('O1..O5 due in March; O5 excluded; O1 and O2 on time: 2 / 4', async () => {
      expect(counts(await m.evaluate('outreach-on-time'))).toEqual({ ip: 5, den: 5, excl: 1, num: 2, score: 0.5 });
    });
  });
});

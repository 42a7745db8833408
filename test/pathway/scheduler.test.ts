import type { CarePlan, Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CARE, CareActivity } from '../../src/pathway/care/codes.js';
import { JobKind } from '../../src/pathway/scheduler/codes.js';
import { scheduleJob, type JobKinds } from '../../src/pathway/scheduler/jobs.js';
import { JOB_KINDS } from '../../src/pathway/scheduler/kinds.js';
import { runDueJobs } from '../../src/pathway/scheduler/run.js';
import { MONDAY_9AM, pathwayStore, type PathwayTestStore } from './support.js';
import { jobKeys, personInCare, tasks, tasksCoded, write } from './scheduler-support.js';
import { TaskCode } from '../../src/pathway/codes.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface JobRow {
  key: string;
  attempts: number;
  last_error: string | null;
  done_at: Date | string | null;
  run_at: Date | string;
}

describe('pathway scheduler (PGlite, one instance)', () => {
  let p: PathwayTestStore;
  beforeEach(async () => {
    p = await pathwayStore();
  });
  afterEach(() => p.t.dispose());

  const jobs = (like: string) => p.store.queryable.query<JobRow>('SELECT key, attempts, last_error, done_at, run_at FROM pathway_job WHERE key LIKE $1 ORDER BY key', [like]);
  const run = () => runDueJobs(p.store, p.clock.now());

  it('scheduleJob is idempotent on its key, and a job runs once, at its time, not before', async () => {
    const ran: string[] = [];
    const kinds: JobKinds = { probe: async (_ctx, job) => void ran.push(job.key) };
    const at = new Date(MONDAY_9AM.getTime() + HOUR);
    expect(await scheduleJob(p.store, { kind: 'probe', key: 'probe:1', runAt: at, payload: {} })).toBe(true);
    expect(await scheduleJob(p.store, { kind: 'probe', key: 'probe:1', runAt: MONDAY_9AM, payload: {} })).toBe(false);
    expect((await runDueJobs(p.store, p.clock.now(), { kinds })).done).toEqual([]);
    p.clock.advance(HOUR);
    expect((await runDueJobs(p.store, p.clock.now(), { kinds })).done).toEqual(['probe:1']);
    expect((await runDueJobs(p.store, p.clock.now(), { kinds })).done).toEqual([]);
    expect(ran).toEqual(['probe:1']);
  });

  it('an active care plan creates its contacts one occurrence at a time as the clock advances, 09:00 London across the clock change', async () => {
    const { plan, lead } = await personInCare(p.store, 1, { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await run();
    let contacts = await tasksCoded(p.store, TaskCode.contact);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      status: 'ready',
      basedOn: [{ reference: `CarePlan/${plan.id}` }],
      for: { reference: plan.subject!.reference },
      owner: { reference: `Practitioner/${lead.id}` },
      reasonCode: { coding: [{ code: CareActivity.weeklyWellbeingContact }] },
      restriction: { period: { start: MONDAY_9AM.toISOString(), end: '2026-03-09T09:00:00.000Z' } },
    });
    // nothing more until the next occurrence starts
    p.clock.advance(6 * DAY);
    await run();
    expect(await tasksCoded(p.store, TaskCode.contact)).toHaveLength(1);
    // four weeks on: 9, 16, 23 March (GMT), then 30 March in British Summer Time, still 09:00 local
    p.clock.set(new Date('2026-03-30T08:00:00Z'));
    await run();
    contacts = await tasksCoded(p.store, TaskCode.contact);
    expect(contacts.map((t) => t.restriction!.period!.start).sort()).toEqual([
      '2026-03-02T09:00:00.000Z',
      '2026-03-09T09:00:00.000Z',
      '2026-03-16T09:00:00.000Z',
      '2026-03-23T09:00:00.000Z',
      '2026-03-30T08:00:00.000Z',
    ]);
    expect(new Set(jobKeys(contacts)).size).toBe(5);
  });

  it('a due time on a bank holiday moves to the next working day', async () => {
    // weekly from Friday 27 March 2026: Good Friday is 3 April, Easter Monday 6 April
    p.clock.set(new Date('2026-03-27T10:00:00Z'));
    await personInCare(p.store, 2, { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await run();
    const [first] = await tasksCoded(p.store, TaskCode.contact);
    expect(first.restriction!.period!.end).toBe('2026-04-07T09:00:00.000Z');
  });

  it('a plan that ends stops its cadence: the next job finds it completed and creates nothing', async () => {
    const { plan } = await personInCare(p.store, 3, { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await run();
    const current = (await p.store.read('CarePlan', plan.id)) as CarePlan;
    await write(p.store, { ...current, status: 'completed' });
    p.clock.advance(21 * DAY);
    await run();
    expect(await tasksCoded(p.store, TaskCode.contact)).toHaveLength(1);
    expect((await jobs('cadence:%')).map((j) => [j.key, j.done_at !== null])).toEqual([
      [`cadence:CarePlan/${plan.id}:cadence-1:1`, true],
      [`cadence:CarePlan/${plan.id}:cadence-1:2`, true],
    ]);
  });

  it('a plan on hold skips its contacts and keeps the rhythm; active again, they resume', async () => {
    const { plan } = await personInCare(p.store, 4, { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await run();
    await write(p.store, { ...((await p.store.read('CarePlan', plan.id)) as CarePlan), status: 'on-hold' });
    p.clock.advance(7 * DAY);
    await run();
    expect(await tasksCoded(p.store, TaskCode.contact)).toHaveLength(1);
    await write(p.store, { ...((await p.store.read('CarePlan', plan.id)) as CarePlan), status: 'active' });
    p.clock.advance(7 * DAY);
    await run();
    const contacts = await tasksCoded(p.store, TaskCode.contact);
    expect(contacts.map((t) => t.restriction!.period!.start).sort()).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-16T09:00:00.000Z']);
  });

  it('the review date makes one care-plan-review Task on that day; a new review date makes another, the old one none', async () => {
    const { plan, lead } = await personInCare(p.store, 5, { cadences: [], reviewDate: '2026-03-10' });
    await run();
    expect(await tasksCoded(p.store, TaskCode.carePlanReview)).toHaveLength(0);
    p.clock.set(new Date('2026-03-10T00:00:00Z'));
    await run();
    await run();
    const reviews = await tasksCoded(p.store, TaskCode.carePlanReview);
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({ focus: { reference: `CarePlan/${plan.id}` }, owner: { reference: `Practitioner/${lead.id}` }, restriction: { period: { end: '2026-03-10T23:59:59.000Z' } } });
    // moved to a Saturday in summer time: due by the end of the Monday after, London time
    const current = (await p.store.read('CarePlan', plan.id)) as CarePlan;
    await write(p.store, { ...current, extension: [{ url: CARE.reviewDate, valueDate: '2026-04-11' }] });
    await write(p.store, { ...((await p.store.read('CarePlan', plan.id)) as CarePlan), extension: [{ url: CARE.reviewDate, valueDate: '2026-04-18' }] });
    p.clock.set(new Date('2026-04-30T00:00:00Z'));
    await run();
    const later = (await tasksCoded(p.store, TaskCode.carePlanReview)).filter((t) => t.id !== reviews[0].id);
    expect(later).toHaveLength(1);
    expect(later[0].restriction!.period).toEqual({ start: '2026-04-17T23:00:00.000Z', end: '2026-04-20T22:59:59.000Z' });
  });

  it('a crash inside a job rolls its Task back with the claim; the job runs again after a back-off and creates the Task once', async () => {
    let crash = true;
    const kinds: JobKinds = {
      ...JOB_KINDS,
      [JobKind.cadenceContact]: async (ctx, job) => {
        await JOB_KINDS[JobKind.cadenceContact](ctx, job);
        if (crash) throw new Error('the process died here');
      },
    };
    const { plan } = await personInCare(p.store, 6, { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    const failed = await runDueJobs(p.store, p.clock.now(), { kinds });
    expect(failed.failed).toEqual([{ key: `cadence:CarePlan/${plan.id}:cadence-1:1`, error: 'the process died here' }]);
    expect(await tasksCoded(p.store, TaskCode.contact)).toHaveLength(0);
    const [job] = await jobs('cadence:%');
    expect(job).toMatchObject({ attempts: 1, last_error: 'the process died here', done_at: null });
    expect(new Date(job.run_at).getTime()).toBe(MONDAY_9AM.getTime() + 30_000);
    // not again before the back-off, then once
    crash = false;
    expect((await runDueJobs(p.store, p.clock.now(), { kinds })).done).toEqual([]);
    p.clock.advance(30_000);
    expect((await runDueJobs(p.store, p.clock.now(), { kinds })).done).toEqual([`cadence:CarePlan/${plan.id}:cadence-1:1`]);
    expect(await tasksCoded(p.store, TaskCode.contact)).toHaveLength(1);
    expect((await jobs('cadence:%')).map((j) => j.key)).toEqual([`cadence:CarePlan/${plan.id}:cadence-1:1`, `cadence:CarePlan/${plan.id}:cadence-1:2`]);
  });

  it('a job of a kind nobody handles is kept, with its error, not lost', async () => {
    await scheduleJob(p.store, { kind: 'retired-kind', key: 'retired:1', runAt: MONDAY_9AM, payload: {} });
    const summary = await run();
    expect(summary.failed).toEqual([{ key: 'retired:1', error: "no handler for job kind 'retired-kind'" }]);
    expect((await jobs('retired:%'))[0]).toMatchObject({ attempts: 1, done_at: null });
  });

  it('re-saving an active plan schedules nothing twice', async () => {
    const { plan } = await personInCare(p.store, 7);
    for (let i = 0; i < 3; i++) await write(p.store, { ...((await p.store.read('CarePlan', plan.id)) as CarePlan), description: `note ${i}` });
    await run();
    const made = (await tasks(p.store, [['based-on', `CarePlan/${plan.id}`]])) as Task[];
    expect(made).toHaveLength(2);
    expect(new Set(jobKeys(made)).size).toBe(2);
  });
});

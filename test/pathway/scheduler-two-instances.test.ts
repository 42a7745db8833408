import type { Task } from '@medplum/fhirtypes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { CareActivity } from '../../src/pathway/care/codes.js';
import { JobKind } from '../../src/pathway/scheduler/codes.js';
import { JOB_KINDS } from '../../src/pathway/scheduler/kinds.js';
import type { JobKinds } from '../../src/pathway/scheduler/jobs.js';
import { runDueJobs, type RunOptions } from '../../src/pathway/scheduler/run.js';
import type { ResourceStore } from '../../src/store/resource-store.js';
import { TEST_DATABASE_URL } from '../support/databases.js';
import { MONDAY_9AM } from './support.js';
import { codeOf, jobKeys, personInCare, recordOutcome, tasks, tasksCoded, twoPostgresInstances, type TwoInstances } from './scheduler-support.js';
import { TaskCode } from '../../src/pathway/codes.js';

const DAY = 86_400_000;

/** Runs both instances side by side until neither finds a due job; returns the keys each ran. */
async function runBothUntilIdle(a: ResourceStore, b: ResourceStore, now: Date, opts: { a?: RunOptions; b?: RunOptions } = {}): Promise<{ a: string[]; b: string[] }> {
  const done = { a: [] as string[], b: [] as string[] };
  for (;;) {
    const [ra, rb] = await Promise.all([runDueJobs(a, now, { max: 5, ...opts.a }), runDueJobs(b, now, { max: 5, ...opts.b })]);
    done.a.push(...ra.done);
    done.b.push(...rb.done);
    if (ra.done.length + ra.failed.length + rb.done.length + rb.failed.length === 0) return done;
  }
}

describe('pathway scheduler: two instances on one PostgreSQL database', () => {
  const clock = new FixedClock(MONDAY_9AM);
  let two: TwoInstances;
  beforeAll(async () => {
    two = await twoPostgresInstances(clock);
  });
  afterAll(() => two.dispose());

  it('run side by side, they run each job once between them: no contact Task is created twice', async () => {
    clock.set(MONDAY_9AM);
    const plans = 8;
    for (let i = 0; i < plans; i++) await personInCare(two.a, `two-${i}`, { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'd']] });
    // two weeks at once: each plan's chain runs 15 daily occurrences, claimed by whichever instance gets there first
    clock.advance(14 * DAY);
    const done = await runBothUntilIdle(two.a, two.b, clock.now());
    expect(done.a.filter((k) => done.b.includes(k))).toEqual([]);
    expect(done.a.length).toBeGreaterThan(0);
    expect(done.b.length).toBeGreaterThan(0);
    const contacts = await tasksCoded(two.a, TaskCode.contact);
    expect(contacts).toHaveLength(plans * 15);
    expect(new Set(jobKeys(contacts)).size).toBe(plans * 15);
    expect(done.a.length + done.b.length).toBe(plans * 15);
  });

  it('missed contacts on both instances take each outreach step once', async () => {
    const person = await personInCare(two.a, 'two-ladder', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'd']] });
    await runBothUntilIdle(two.a, two.b, clock.now());
    const open = await tasksCoded(two.a, TaskCode.contact, [['based-on', `CarePlan/${person.plan.id}`]]);
    await recordOutcome(two.b, open[0], 'missed');
    // the call, then the home visit, fail at their deadlines; both instances poll
    for (let day = 0; day < 4; day++) {
      clock.advance(DAY);
      await runBothUntilIdle(two.a, two.b, clock.now());
    }
    const ladder = (await tasks(two.a, [['focus', `Task/${open[0].id}`]])).map((t) => [codeOf(t), t.status]);
    expect(ladder.sort()).toEqual([
      ['outreach-call', 'failed'],
      ['outreach-home-visit', 'failed'],
      ['outreach-partner-contact', 'failed'],
    ]);
  });

  it('a job that crashes on one instance is rolled back and done once, later, by the other', async () => {
    const person = await personInCare(two.a, 'two-crash', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    const crashing: JobKinds = {
      ...JOB_KINDS,
      [JobKind.cadenceContact]: async (ctx, job) => {
        await JOB_KINDS[JobKind.cadenceContact](ctx, job);
        throw new Error('instance A died mid-job');
      },
    };
    const first = await runDueJobs(two.a, clock.now(), { kinds: crashing });
    expect(first.failed.map((f) => f.key)).toEqual([`cadence:CarePlan/${person.plan.id}:cadence-1:1`]);
    expect(await tasks(two.a, [['based-on', `CarePlan/${person.plan.id}`]])).toEqual([]);
    // not before its back-off; then instance B runs it
    expect((await runDueJobs(two.b, clock.now())).done).toEqual([]);
    clock.advance(30_000);
    expect((await runDueJobs(two.b, clock.now())).done).toEqual([`cadence:CarePlan/${person.plan.id}:cadence-1:1`]);
    const made = (await tasks(two.b, [['based-on', `CarePlan/${person.plan.id}`]])) as Task[];
    expect(made).toHaveLength(1);
  });

  it('a worker closing an attempt while its deadline job runs on another instance wins: the job does not overwrite it', async () => {
    const person = await personInCare(two.a, 'two-race', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    await runDueJobs(two.a, clock.now());
    const [contact] = await tasksCoded(two.a, TaskCode.contact, [['based-on', `CarePlan/${person.plan.id}`]]);
    await recordOutcome(two.a, contact, 'missed');
    const [call] = await tasks(two.a, [['focus', `Task/${contact.id}`]]);
    clock.set(new Date(call.restriction!.period!.end!));
    // the worker records the call as made in a transaction still open when the deadline job starts
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const worker = two.a.transaction(async (tx) => {
      await recordOutcome(tx, call, 'made');
      await gate;
    });
    await new Promise((r) => setTimeout(r, 50));
    const job = runDueJobs(two.b, clock.now());
    await new Promise((r) => setTimeout(r, 150));
    release();
    await worker;
    await job;
    clock.advance(60_000);
    await runDueJobs(two.b, clock.now());
    const ladder = await tasks(two.a, [['focus', `Task/${contact.id}`]]);
    expect(ladder.map((t) => [codeOf(t), t.status])).toEqual([['outreach-call', 'completed']]);
  });

  it('a claim held by an instance whose connection dies is skipped meanwhile, then released to the other', async () => {
    const person = await personInCare(two.a, 'two-died', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    const key = `cadence:CarePlan/${person.plan.id}:cadence-1:1`;
    // an instance claims the job, as runDueJobs does, and its process dies before it commits
    const dying = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await dying.connect();
    await dying.query(`SET search_path TO ${two.schema}`);
    await dying.query('BEGIN');
    expect((await dying.query('SELECT key FROM pathway_job WHERE key = $1 AND done_at IS NULL FOR UPDATE SKIP LOCKED', [key])).rows).toHaveLength(1);
    expect((await runDueJobs(two.b, clock.now())).done).not.toContain(key);
    expect(await tasks(two.b, [['based-on', `CarePlan/${person.plan.id}`]])).toEqual([]);
    await dying.end();
    expect((await runDueJobs(two.b, clock.now())).done).toContain(key);
    expect(await tasks(two.b, [['based-on', `CarePlan/${person.plan.id}`]])).toHaveLength(1);
  });
});

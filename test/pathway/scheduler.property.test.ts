import type { Task } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { CareActivity } from '../../src/pathway/care/codes.js';
import { OUTREACH_LADDER } from '../../src/pathway/outreach/ladder.js';
import { isMissed, ladderPlace } from '../../src/pathway/outreach/outcome.js';
import { runDueJobs } from '../../src/pathway/scheduler/run.js';
import { isFinalTaskStatus } from '../../src/pathway/tasks/transitions.js';
import type { ResourceStore } from '../../src/store/resource-store.js';
import { MONDAY_9AM } from './support.js';
import { codeOf, jobKeys, personInCare, recordOutcome, riskFlag, tasks, twoPostgresInstances, write, type TwoInstances } from './scheduler-support.js';
import { TaskCode } from '../../src/pathway/codes.js';

const HOUR = 3_600_000;

type Instance = 'a' | 'b';
type Event =
  | { kind: 'miss'; pick: number; how: 'missed' | 'did-not-attend'; on: Instance }
  | { kind: 'complete'; pick: number; on: Instance }
  | { kind: 'resave'; pick: number; on: Instance }
  | { kind: 'advance'; hours: number }
  | { kind: 'run'; on: Instance | 'both' };

const instance = fc.constantFrom<Instance>('a', 'b');
const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('miss' as const), pick: fc.nat(5), how: fc.constantFrom('missed' as const, 'did-not-attend' as const), on: instance }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat(5), on: instance }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resave' as const), pick: fc.nat(5), on: instance }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), hours: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('run' as const), on: fc.constantFrom<Instance | 'both'>('a', 'b', 'both') }) },
);

/**
 * Over random sequences of missed and completed contacts and attempts (and notes added to ended
 * ones), clock advances and
 * scheduler runs on one instance or two side by side (two pools on one PostgreSQL database):
 * no Task is created twice by the scheduler, each missed contact or failed attempt yields exactly
 * the next ladder step (the escalation only with risk indicators), and no attempt stays open past
 * its due time once the scheduler has run.
 */
describe('scheduler and outreach ladder properties (two instances on PostgreSQL)', () => {
  const clock = new FixedClock(MONDAY_9AM);
  let two: TwoInstances;
  let n = 0;
  beforeAll(async () => {
    two = await twoPostgresInstances(clock);
  });
  afterAll(() => two.dispose());

  const store = (on: Instance): ResourceStore => (on === 'a' ? two.a : two.b);
  const runOn = async (on: Instance | 'both') => {
    if (on === 'both') await Promise.all([runDueJobs(two.a, clock.now()), runDueJobs(two.b, clock.now())]);
    else await runDueJobs(store(on), clock.now());
  };

  it('holds for any sequence of events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 8, maxLength: 40 }), fc.boolean(), async (events, atRisk) => {
        const person = await personInCare(two.a, `prop-${++n}`, { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'd']] });
        if (atRisk) await write(two.a, riskFlag(person.patient.id, 'disengagement', 'PH'));
        const mine = async () => (await tasks(two.a, [['patient', `Patient/${person.patient.id}`]])) as Task[];
        const open = async () => (await mine()).filter((t) => ladderPlace(t) !== undefined && t.status === 'ready').sort((x, y) => x.authoredOn!.localeCompare(y.authoredOn!) || x.id!.localeCompare(y.id!));
        await runOn('a');
        for (const e of events) {
          if (e.kind === 'advance') clock.advance(e.hours * HOUR);
          else if (e.kind === 'run') await runOn(e.on);
          else if (e.kind === 'resave') {
            // a note on a contact or attempt already ended: it must not take its step again
            const ended = (await mine()).filter((t) => ladderPlace(t) !== undefined && isFinalTaskStatus(t.status));
            const task = ended[e.pick % Math.max(ended.length, 1)];
            if (task) await write(store(e.on), { ...task, note: [...(task.note ?? []), { text: `seen at ${clock.now().toISOString()}` }] });
          }
          else {
            const candidates = await open();
            const task = candidates[e.pick % Math.max(candidates.length, 1)];
            if (task) await recordOutcome(store(e.on), task, e.kind === 'complete' ? 'made' : e.how);
          }
        }
        await runOn('both');
        await runOn('both');
        const all = await mine();

        // no Task is created twice by the scheduler
        const keys = jobKeys(all);
        expect(new Set(keys).size).toBe(keys.length);
        // each missed contact or failed attempt yields exactly the next step; anything else none
        for (const t of all) {
          const place = ladderPlace(t);
          if (place === undefined) continue;
          const next = OUTREACH_LADDER[place + 1];
          const children = all.filter((c) => c.partOf?.some((r) => r.reference === `Task/${t.id}`));
          const expected = isMissed(t) && next?.kind === 'attempt' ? [next.code] : [];
          expect(children.map(codeOf)).toEqual(expected);
          if (isMissed(t) && next?.kind === 'escalation') {
            const escalations = all.filter((c) => codeOf(c) === TaskCode.escalation && c.focus?.reference === t.focus?.reference);
            expect(escalations).toHaveLength(atRisk ? 1 : 0);
          }
          // an attempt past its due time has failed (the deadline job ran, once)
          if (place >= 0 && Date.parse(t.restriction!.period!.end!) <= clock.now().getTime()) expect(isFinalTaskStatus(t.status)).toBe(true);
        }
        // the person's plan ends, so later runs leave them be
        await write(two.a, { ...(await two.a.read('CarePlan', person.plan.id)), status: 'completed' } as never);
      }),
      { numRuns: 25 },
    );
  });
});

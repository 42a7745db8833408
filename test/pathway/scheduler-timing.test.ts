import type { Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { nextOccurrence } from '../../src/pathway/scheduler/cadence.js';
import { scheduleJob } from '../../src/pathway/scheduler/jobs.js';
import { SchedulerPoll } from '../../src/pathway/scheduler/poll.js';
import { reviewStart } from '../../src/pathway/scheduler/review.js';
import { addLondonCalendar, onWorkingDay } from '../../src/pathway/working-days.js';
import { pathwayStore } from './support.js';

describe('cadence and review times on the London calendar', () => {
  const at = (iso: string) => new Date(iso);

  it('whole weeks and months keep the London wall-clock time; the 31st becomes the month end', () => {
    expect(nextOccurrence(at('2026-03-23T09:00:00Z'), { frequency: 1, period: 1, periodUnit: 'wk' }).toISOString()).toBe('2026-03-30T08:00:00.000Z');
    expect(nextOccurrence(at('2026-01-31T10:00:00Z'), { frequency: 1, period: 1, periodUnit: 'mo' }).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(nextOccurrence(at('2026-10-20T08:00:00Z'), { frequency: 1, period: 1, periodUnit: 'mo' }).toISOString()).toBe('2026-11-20T09:00:00.000Z');
    expect(nextOccurrence(at('2026-03-02T09:00:00Z'), { frequency: 1, period: 1, periodUnit: 'a' }).toISOString()).toBe('2027-03-02T09:00:00.000Z');
    expect(addLondonCalendar(at('2026-03-02T09:00:00Z'), { days: 14 }).toISOString()).toBe('2026-03-16T09:00:00.000Z');
  });

  it('fractions of a period are elapsed time, and nothing comes round more often than hourly', () => {
    expect(nextOccurrence(at('2026-03-02T09:00:00Z'), { frequency: 2, period: 1, periodUnit: 'wk' }).toISOString()).toBe('2026-03-05T21:00:00.000Z');
    expect(nextOccurrence(at('2026-03-02T09:00:00Z'), { frequency: 3, period: 1, periodUnit: 'd' }).toISOString()).toBe('2026-03-02T17:00:00.000Z');
    expect(nextOccurrence(at('2026-03-02T09:00:00Z'), { frequency: 10, period: 1, periodUnit: 'min' }).toISOString()).toBe('2026-03-02T10:00:00.000Z');
  });

  it('a due time on a weekend or bank holiday moves to the next working day, same London time', () => {
    expect(onWorkingDay(at('2026-03-07T09:00:00Z')).toISOString()).toBe('2026-03-09T09:00:00.000Z');
    expect(onWorkingDay(at('2026-12-25T09:00:00Z')).toISOString()).toBe('2026-12-29T09:00:00.000Z');
    expect(onWorkingDay(at('2026-03-04T09:00:00Z')).toISOString()).toBe('2026-03-04T09:00:00.000Z');
  });

  it('a review date starts at London midnight, in winter and in summer time', () => {
    expect(reviewStart('2026-03-10').toISOString()).toBe('2026-03-10T00:00:00.000Z');
    expect(reviewStart('2026-07-01').toISOString()).toBe('2026-06-30T23:00:00.000Z');
    expect(reviewStart('2026-07-01T14:30:00+01:00').toISOString()).toBe('2026-07-01T13:30:00.000Z');
  });
});

describe('the scheduler poll loop', () => {
  it('runs due jobs on its interval by the store clock, and stop waits for a run under way', async () => {
    const p = await pathwayStore();
    try {
      await scheduleJob(p.store, { kind: 'care-plan-review', key: 'review:CarePlan/none:2026-03-02', runAt: p.clock.now(), payload: { carePlan: 'none', reviewDate: '2026-03-02' } });
      const poll = new SchedulerPoll(p.store, { intervalMs: 20, logger: pino({ level: 'silent' }) });
      poll.start();
      const deadline = Date.now() + 10_000;
      let done: unknown[] = [];
      while (done.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        done = await p.store.queryable.query("SELECT key FROM pathway_job WHERE key = 'review:CarePlan/none:2026-03-02' AND done_at IS NOT NULL");
      }
      await poll.stop();
      expect(done).toHaveLength(1);
      // a review of a plan that does not exist creates nothing
      expect((await p.store.search(parseSearch('Task', [['_count', '10']]))).matches as Task[]).toEqual([]);
    } finally {
      await p.t.dispose();
    }
  });
});

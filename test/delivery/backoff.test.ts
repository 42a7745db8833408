import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextAttempt } from '../../src/delivery/backoff.js';

const policy = { backoffMs: 1000, maxBackoffMs: 60_000, horizonMs: 3_600_000 };
const since = new Date('2026-03-02T09:00:00Z');

describe('retry back-off', () => {
  it('doubles per attempt, with equal jitter (between half and all of the delay), up to the maximum', () => {
    const at = (attempts: number, random: number) => nextAttempt(policy, { attempts, retrySince: since, now: since, random })!.getTime() - since.getTime();
    expect([1, 2, 3, 4].map((n) => at(n, 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => at(n, 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(at(30, 1)).toBe(60_000);
    expect(at(1000, 0)).toBe(30_000);
  });

  it('gives up past the horizon', () => {
    const late = new Date(since.getTime() + policy.horizonMs - 100);
    expect(nextAttempt(policy, { attempts: 1, retrySince: since, now: late, random: 0 })).toBeUndefined();
    expect(nextAttempt(policy, { attempts: 1, retrySince: late, now: late, random: 0 })).toBeDefined();
  });

  it('is always within [d/2, d] and never past the horizon (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 4_000_000 }), (attempts, random, elapsed) => {
        const now = new Date(since.getTime() + elapsed);
        const next = nextAttempt(policy, { attempts, retrySince: since, now, random });
        const d = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempts - 1));
        if (!next) return now.getTime() + d / 2 + (d / 2) * random > since.getTime() + policy.horizonMs;
        const delay = next.getTime() - now.getTime();
        return delay >= d / 2 && delay <= d && next.getTime() <= since.getTime() + policy.horizonMs;
      }),
    );
  });
});

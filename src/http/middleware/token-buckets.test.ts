import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-buckets.js';

describe('TokenBuckets', () => {
  it('lets a client spend a minute of requests at once, then one each refill, and says how long to wait', () => {
    let now = 0;
    const buckets = new TokenBuckets(60, 60, () => now);
    for (let i = 0; i < 60; i++) expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(1); // 60 a minute: one a second
    now += 999;
    expect(buckets.take('a')).toBe(1);
    now += 1;
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(1);
  });

  it('keeps one bucket per key', () => {
    const now = 0;
    const buckets = new TokenBuckets(2, 2, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 30]);
    expect(buckets.take('b')).toBe(0);
  });

  it('never fills past its capacity, however long a client is idle', () => {
    let now = 0;
    const buckets = new TokenBuckets(60, 3, () => now);
    now += 3_600_000;
    expect([0, 1, 2, 3].map(() => buckets.take('a'))).toEqual([0, 0, 0, 1]);
  });

  it('forgets clients whose buckets have refilled once it holds too many keys', () => {
    let now = 0;
    const buckets = new TokenBuckets(60, 60, () => now, 100);
    for (let i = 0; i < 100; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBe(100);
    now += 60_000;
    buckets.take('new');
    expect(buckets.size).toBe(1);
  });
});

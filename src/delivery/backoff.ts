/** When a failed delivery is tried again, and for how long. */
export interface RetryPolicy {
  /** The first retry's delay. */
  backoffMs: number;
  /** No delay is longer. */
  maxBackoffMs: number;
  /** From `retrySince` (queued or replayed): no attempt is made after this; the row is dead instead. */
  horizonMs: number;
}

/**
 * Exponential back-off with "equal jitter" (half the delay fixed, half random), so instances that
 * failed together against one partner do not all come back at the same instant: after attempt n,
 * wait between d/2 and d, d = min(max, base · 2^(n−1)). Returns undefined when that would be past
 * the horizon: the message is dead.
 */
export function nextAttempt(policy: RetryPolicy, at: { attempts: number; retrySince: Date; now: Date; random: number }): Date | undefined {
  const exp = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.min(Math.max(at.attempts - 1, 0), 40));
  const delay = exp / 2 + (exp / 2) * Math.min(Math.max(at.random, 0), 1);
  const next = at.now.getTime() + delay;
  if (next > at.retrySince.getTime() + policy.horizonMs) return undefined;
  return new Date(next);
}

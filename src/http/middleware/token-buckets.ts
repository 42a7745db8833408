/**
 * One token bucket per key (a client): each holds up to `capacity` tokens, refilled continuously
 * at `perMinute` a minute; a request takes one. In this process only: each instance limits on its
 * own, so N instances let a client through N times as fast.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly capacity: number = perMinute,
    private readonly now: () => number = Date.now,
    /** Past this many keys, full buckets (clients idle long enough) are forgotten. */
    private readonly maxKeys = 10_000,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes a token for `key`: 0 when there was one, else the seconds until there will be. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (!this.buckets.has(key)) this.remember(key, bucket, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  get size(): number {
    return this.buckets.size;
  }

  private remember(key: string, bucket: { tokens: number; at: number }, now: number): void {
    if (this.buckets.size >= this.maxKeys) {
      for (const [k, b] of this.buckets) {
        if (b.tokens + (now - b.at) * this.perMs >= this.capacity) this.buckets.delete(k);
      }
    }
    this.buckets.set(key, bucket);
  }
}

import type { Context, MiddlewareHandler } from 'hono';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { clientKeyOf } from './client-key.js';
import { TokenBuckets } from './token-buckets.js';

export interface RateLimitOptions {
  /** Requests a client may make a minute, on average; it may also spend a minute's worth at once. */
  perMinute: number;
  /** Paths never limited: health, readiness and metrics must answer a busy or throttled server. */
  exempt?: (path: string) => boolean;
  keyOf?: (c: Context) => string;
  now?: () => number;
}

/**
 * Per-client rate limiting: 429 Too Many Requests with Retry-After (RFC 6585 §4, RFC 9110
 * §10.2.3) once a client's bucket is empty. Mount it after authentication, so that the key is the
 * authenticated client where there is one (see clientKeyOf).
 */
export function rateLimit(opts: RateLimitOptions): MiddlewareHandler {
  const buckets = new TokenBuckets(opts.perMinute, opts.perMinute, opts.now);
  const keyOf = opts.keyOf ?? clientKeyOf;
  return async (c, next) => {
    if (opts.exempt?.(c.req.path)) return next();
    const wait = buckets.take(keyOf(c));
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new FhirError(FhirErrorCode.TOO_MANY_REQUESTS, `Too many requests from this client; at most ${opts.perMinute} a minute are accepted. Try again in ${wait} s`);
    }
    await next();
  };
}

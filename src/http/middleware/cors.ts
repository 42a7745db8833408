import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/** Response headers a browser client may read: versions, where a created resource is, the request id. */
const EXPOSED = ['ETag', 'Location', 'Content-Location', 'Last-Modified', 'X-Request-Id', 'X-Correlation-ID', 'Retry-After'];

/**
 * Cross-origin access for browser apps at the listed origins only (CORS_ORIGINS); with none
 * listed there are no CORS headers at all, and browsers keep other origins out. Tokens travel in
 * Authorization, never cookies, so credentials stay off. Preflight OPTIONS is answered here, 204.
 */
export function corsFor(origins: readonly string[]): MiddlewareHandler | undefined {
  if (origins.length === 0) return undefined;
  return cors({
    origin: [...origins],
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    // no list: a preflight's Access-Control-Request-Headers are allowed as asked (the origin is
    // what is checked), so FHIR's conditional headers and the BaRS NHSD-* headers all work
    exposeHeaders: EXPOSED,
    maxAge: 600,
  });
}

import type { MiddlewareHandler } from 'hono';

const SAFE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Echoes X-Correlation-ID on every response, errors included, as the BaRS API asks
 * (a value unsafe to log or reflect is dropped).
 */
export function correlationId({ header = 'X-Correlation-ID' }: { header?: string } = {}): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const incoming = c.req.header(header);
    if (incoming && SAFE.test(incoming)) c.res.headers.set(header, incoming);
  };
}

import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../logger.js';
import type { RequestIdVariables } from './request-id.js';

/** One structured log line per request, with its id, status and duration. */
export function accessLog(logger: Logger): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  return async (c, next) => {
    const start = performance.now();
    await next();
    logger.info(
      { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round((performance.now() - start) * 10) / 10 },
      'request',
    );
  };
}

import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

const SAFE = /^[A-Za-z0-9._:-]{1,128}$/;

export type RequestIdVariables = { requestId: string };

/** Takes the caller's request id when it is safe to log, else makes one; echoes it on the response. */
export function requestId({ header = 'X-Request-Id' }: { header?: string } = {}): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  return async (c, next) => {
    const incoming = c.req.header(header);
    const id = incoming && SAFE.test(incoming) ? incoming : randomUUID();
    c.set('requestId', id);
    await next();
    c.header(header, id);
  };
}

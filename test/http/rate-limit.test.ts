import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKeyOf } from '../../src/http/middleware/client-key.js';
import { listen, startTestApp, type TestApp } from '../support/app.js';

/** Issue 13, hostile input: per-client rate limiting with 429 and Retry-After (RFC 6585 §4). */
let t: TestApp;
let server: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  t = await startTestApp(undefined, { rateLimitPerMinute: 3 });
  server = await listen(t.app);
});
afterAll(async () => {
  await server.close();
  await t.close();
});

describe('rate limiting (RATE_LIMIT_PER_MINUTE)', () => {
  it('answers 429 with Retry-After and a throttled OperationOutcome once a client has spent its minute, but never limits health, readiness or metrics', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${server.url}/fhir/metadata`)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const throttled = await fetch(`${server.url}/fhir/Patient?name=x`);
    expect(throttled.status).toBe(429);
    // three a minute: the next token is 20 s away
    expect(Number(throttled.headers.get('Retry-After'))).toBeGreaterThanOrEqual(19);
    expect(Number(throttled.headers.get('Retry-After'))).toBeLessThanOrEqual(20);
    const oo = (await throttled.json()) as { resourceType: string; issue: { code: string }[] };
    expect(oo.resourceType).toBe('OperationOutcome');
    expect(oo.issue[0].code).toBe('throttled');
    for (const path of ['/healthz', '/readyz', '/metrics', '/healthz', '/readyz']) expect((await fetch(`${server.url}${path}`)).status).toBe(200);
  });

  it('keys on the authenticated user or client when there is one, else on the remote address', async () => {
    const keyWith = async (principal: unknown): Promise<string> => {
      const app = new Hono();
      app.get('/', (c) => {
        if (principal) (c.set as (k: string, v: unknown) => void)('principal', principal);
        return c.text(clientKeyOf(c));
      });
      return (await app.request('/')).text();
    };
    expect(await keyWith({ kind: 'client', clientId: 'gp-system' })).toBe('client:gp-system');
    expect(await keyWith({ kind: 'user', clientId: 'app', user: 'u1', issuer: 'https://idp' })).toBe('user:https://idp|u1');
    // anonymous and development callers all share one client id: the address tells them apart
    expect(await keyWith({ kind: 'development', clientId: 'development' })).toBe('address:unknown');
    expect(await keyWith(undefined)).toBe('address:unknown');
  });
});

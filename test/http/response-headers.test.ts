import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppOptions } from '../../src/app.js';
import { serverValidator } from '../../src/fhir/server-validator.js';
import { createMessaging } from '../../src/messaging/index.js';
import { BASE, startTestApp, TEST_HOSTS, type TestApp } from '../support/app.js';

/** Issue 13, hostile input: security headers on every response; CORS only for configured origins. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** The test app's services under other options. */
function appWith(options: Partial<AppOptions>) {
  return createApp({
    store: t.store,
    messaging: createMessaging(t.t.db, t.clock),
    validator: serverValidator(),
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 256 * 1024,
    maxBundleEntries: 100,
    allowedHosts: TEST_HOSTS,
    ...options,
  });
}

function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
  expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
  expect(res.headers.get('X-Frame-Options')).toBe('DENY');
  expect(res.headers.get('Content-Security-Policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(res.headers.get('Cache-Control')).toBe('no-store');
}

describe('security headers', () => {
  it('are on every response: success, errors raised anywhere, health and metrics', async () => {
    const created = await t.fhir('POST', 'Patient', { resourceType: 'Patient' });
    const responses = [
      created,
      await t.fhir('GET', 'metadata'),
      await t.fhir('GET', 'Patient/does-not-exist'),
      await t.app.request('http://stepwise.test/nowhere'),
      await t.fhir('POST', 'Patient', '{"resourceType":'),
      await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'x'.repeat(300 * 1024) }] }), // 413 from the body limit
      await t.fhir('PUT', 'Patient', { resourceType: 'Patient' }, { 'Content-Type': 'text/plain' }),
      await t.app.request('http://stepwise.test/healthz'),
      await t.app.request('http://stepwise.test/metrics'),
    ];
    expect(responses.map((r) => r.status)).toEqual([201, 200, 404, 404, 400, 413, 415, 200, 200]);
    for (const res of responses) expectSecurityHeaders(res);
  });

  it('send Strict-Transport-Security only when BASE_URL is https', async () => {
    expect((await t.fhir('GET', 'metadata')).headers.get('Strict-Transport-Security')).toBeNull();
    const https = appWith({ baseUrl: 'https://stepwise.example.nhs.uk/fhir' });
    const res = await https.request(`${BASE}/metadata`);
    expect(res.headers.get('Strict-Transport-Security')).toBe('max-age=31536000; includeSubDomains');
  });
});

describe('CORS', () => {
  it('is off by default: no CORS headers for any origin, and OPTIONS is no FHIR interaction', async () => {
    const res = await t.fhir('GET', 'metadata', undefined, { Origin: 'https://app.example' });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const preflight = await t.fhir('OPTIONS', 'Patient', undefined, { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' });
    expect(preflight.status).toBe(405);
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('with CORS_ORIGINS, allows exactly those origins and exposes the FHIR response headers', async () => {
    const app = appWith({ corsOrigins: ['https://app.example'] });
    const allowed = await app.request(`${BASE}/Patient`, {
      method: 'POST',
      headers: { Origin: 'https://app.example', 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient' }),
    });
    expect(allowed.status).toBe(201);
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example');
    expect(allowed.headers.get('Access-Control-Allow-Credentials')).toBeNull();
    const exposed = allowed.headers.get('Access-Control-Expose-Headers')?.split(',') ?? [];
    expect(exposed).toEqual(expect.arrayContaining(['ETag', 'Location', 'Content-Location', 'X-Request-Id']));
    expect(allowed.headers.get('Vary')).toContain('Origin');
    expectSecurityHeaders(allowed);

    const other = await app.request(`${BASE}/metadata`, { headers: { Origin: 'https://evil.example' } });
    expect(other.headers.get('Access-Control-Allow-Origin')).toBeNull();

    const preflight = await app.request(`${BASE}/Patient`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'authorization, if-match' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example');
    expect(preflight.headers.get('Access-Control-Allow-Methods')).toContain('PUT');
    expect(preflight.headers.get('Access-Control-Allow-Headers')).toBe('authorization,if-match');
  });
});

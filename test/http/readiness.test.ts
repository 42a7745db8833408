import type { OperationOutcome } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppWithLifecycle, type FhirServices } from '../../src/app.js';
import { serverValidator } from '../../src/fhir/server-validator.js';
import { Lifecycle } from '../../src/lifecycle.js';
import { createMessaging } from '../../src/messaging/index.js';
import { startTestApp, TEST_HOSTS, type TestApp } from '../support/app.js';

/** The app before, during and after start-up, as a load balancer and a FHIR client see it. */
describe('health and readiness through the lifecycle', () => {
  let t: TestApp;
  const lifecycle = new Lifecycle<FhirServices>();
  const app = createAppWithLifecycle({ logger: pino({ level: 'silent' }), maxBodyBytes: 65536, maxBundleEntries: 10, allowedHosts: TEST_HOSTS }, lifecycle);
  const get = (path: string, headers: Record<string, string> = {}) => Promise.resolve(app.request(`http://stepwise.test${path}`, { headers }));

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('while starting: alive, not ready, and the FHIR API answers 503 transient with Retry-After', async () => {
    lifecycle.step = 'database';
    expect((await get('/healthz')).status).toBe(200);
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'starting', step: 'database' });
    const fhir = await get('/fhir/Patient');
    expect(fhir.status).toBe(503);
    expect(fhir.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(fhir.headers.get('content-type')).toContain('application/fhir+json');
    const outcome = (await fhir.json()) as OperationOutcome;
    expect(outcome.issue).toEqual([expect.objectContaining({ severity: 'error', code: 'transient' })]);
    const xml = await get('/fhir/metadata', { Accept: 'application/fhir+xml' });
    expect(xml.status).toBe(503);
    expect(await xml.text()).toContain('<code value="transient"/>');
  });

  it('once ready: ready, checking the database, and serving FHIR', async () => {
    lifecycle.ready({ store: t.store, messaging: createMessaging(t.t.db, t.clock), validator: serverValidator() });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'pglite' });
    expect((await get('/fhir/metadata')).status).toBe(200);
  });

  it('while draining: not ready, still alive, and requests on open connections are still served', async () => {
    lifecycle.drain();
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'draining' });
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/fhir/metadata')).status).toBe(200);
  });
});

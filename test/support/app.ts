import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createApp, type AppDeps } from '../../src/app.js';
import { FixedClock } from '../../src/clock.js';
import { serverValidator } from '../../src/fhir/server-validator.js';
import { createMessaging } from '../../src/messaging/index.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { pgliteTestDatabase, type TestDatabase } from './databases.js';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  store: ResourceStore;
  clock: FixedClock;
  t: TestDatabase;
  /** In-process request against the app, with FHIR JSON defaults. */
  fhir(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export const BASE = 'http://stepwise.test/fhir';

/** The test app's names: BASE's host, and the loopback address `listen` serves on (any port). */
export const TEST_HOSTS = ['stepwise.test', '127.0.0.1', 'localhost'];

export async function startTestApp(open: () => Promise<TestDatabase> = pgliteTestDatabase, overrides: Partial<AppDeps> = {}): Promise<TestApp> {
  const t = await open();
  const clock = new FixedClock(new Date('2026-03-02T09:00:00Z'));
  const store = new ResourceStore(t.db, clock);
  const app = createApp({
    store,
    messaging: createMessaging(t.db, clock),
    logger: pino({ level: 'silent' }),
    validator: serverValidator(),
    maxBodyBytes: 256 * 1024,
    maxBundleEntries: 100,
    allowedHosts: TEST_HOSTS,
    ...overrides,
  });
  return {
    app,
    store,
    clock,
    t,
    fhir: (method, path, body, headers = {}) =>
      Promise.resolve(
        app.request(`${BASE}/${path}`, {
          method,
          headers: { ...(body !== undefined ? { 'Content-Type': 'application/fhir+json' } : {}), ...headers },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        }),
      ),
    close: () => t.dispose(),
  };
}

/** Serves the app on a real loopback port. */
export async function listen(app: TestApp['app']): Promise<{ url: string; server: ServerType; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        server,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, startTestApp, type TestApp } from '../support/app.js';
import { startAuthApp, testKey, type AuthTestApp } from '../security/support.js';

/**
 * Issue 13, hostile-input probe item 6: with BASE_URL unset, `Host: evil.example` went into self
 * links and Location. Now a Host that is not allowed (ALLOWED_HOSTS) is 421 Misdirected Request.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const patient = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Hostly' }] });
const post = (app: TestApp['app'], url: string) => Promise.resolve(app.request(url, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: patient }));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();

/** A raw HTTP request with the Host header as given, as a client on the network can send it. */
function withHost(url: string, host: string, method = 'GET', body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { Host: host, ...(body ? { 'Content-Type': 'application/fhir+json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('allowed hosts', () => {
  it('refuses a write to a host it does not answer for with 421 and an OperationOutcome, writing nothing', async () => {
    const before = (await json(await t.fhir('GET', 'Patient?_summary=count'))).total;
    const res = await post(t.app, 'http://evil.example/fhir/Patient');
    expect(res.status).toBe(421);
    expect(res.headers.get('Location')).toBeNull();
    const outcome = await json(res);
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0].diagnostics).toMatch(/does not answer for the host 'evil.example'.*stepwise\.test/);
    expect((await json(await t.fhir('GET', 'Patient?_summary=count'))).total).toBe(before);
  });

  it('takes self links and Location from an allowed host', async () => {
    const res = await post(t.app, 'http://stepwise.test/fhir/Patient');
    expect(res.status).toBe(201);
    expect(res.headers.get('Location')).toMatch(/^http:\/\/stepwise\.test\/fhir\/Patient\//);
  });

  it('refuses a Host header naming another server on a real socket, on any route but health', async () => {
    const server = await listen(t.app);
    try {
      const search = await withHost(`${server.url}/fhir/Patient`, 'evil.example');
      expect(search.status).toBe(421);
      expect(search.body).not.toContain('http://evil.example/fhir');
      expect((await withHost(`${server.url}/fhir/Patient`, 'evil.example', 'POST', patient)).status).toBe(421);
      expect((await withHost(`${server.url}/fhir/metadata`, 'EVIL.example:80')).status).toBe(421);
      // probes call health by address: it names no URL, so it answers under any name
      expect((await withHost(`${server.url}/healthz`, '10.0.0.7:8080')).status).toBe(200);
      const ok = await withHost(`${server.url}/fhir/Patient?_count=1`, `127.0.0.1:${new URL(server.url).port}`);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).link[0].url).toMatch(new RegExp(`^${server.url}/fhir/Patient`));
    } finally {
      await server.close();
    }
  });

  it('matches a port when the allowed host names one, and the name case-insensitively', async () => {
    const app = (await startTestApp(undefined, { allowedHosts: ['Stepwise.Test:8080'] })).app;
    expect((await Promise.resolve(app.request('http://stepwise.test:8080/fhir/metadata'))).status).toBe(200);
    expect((await Promise.resolve(app.request('http://STEPWISE.test:8080/fhir/metadata'))).status).toBe(200);
    expect((await Promise.resolve(app.request('http://stepwise.test:8081/fhir/metadata'))).status).toBe(421);
    expect((await Promise.resolve(app.request('http://stepwise.test/fhir/metadata'))).status).toBe(421);
  });

  it('writes BASE_URL, not the request\'s host, when it is configured', async () => {
    const app = (await startTestApp(undefined, { baseUrl: 'https://stepwise.example.nhs.uk/fhir', allowedHosts: ['internal.stepwise'] })).app;
    const res = await post(app, 'http://internal.stepwise/fhir/Patient');
    expect(res.headers.get('Location')).toMatch(/^https:\/\/stepwise\.example\.nhs\.uk\/fhir\/Patient\//);
  });
});

describe('allowed hosts with authentication on', () => {
  let a: AuthTestApp;
  beforeAll(async () => {
    const key = await testKey('ES384');
    a = await startAuthApp({ serverKey: await testKey('ES384'), clients: [{ clientId: 'gp-system', jwks: { keys: [key.publicJwk] }, scopes: 'system/*.rs' }] });
  });
  afterAll(() => a.close());

  it('refuses discovery and the token endpoint at another host, so neither publishes nor expects its URL', async () => {
    const discovery = await Promise.resolve(a.app.request('http://evil.example/.well-known/smart-configuration'));
    expect(discovery.status).toBe(421);
    const token = await Promise.resolve(a.app.request('http://evil.example/auth/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' }));
    expect(token.status).toBe(421);
    const ours = await json(await Promise.resolve(a.app.request('http://stepwise.test/.well-known/smart-configuration')));
    expect(ours.token_endpoint).toBe('http://stepwise.test/auth/token');
  });
});

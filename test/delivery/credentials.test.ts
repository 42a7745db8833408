import { exportJWK, exportPKCS8, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { loadPartners, partnerFor, type Partner } from '../../src/config/partners.js';
import { CredentialsError, PartnerCredentials } from '../../src/delivery/credentials.js';
import { fetchTransport } from '../../src/delivery/transport.js';

const TOKEN_URL = 'https://partner.test/oauth/token';
const tokenRequests: URLSearchParams[] = [];
let tokenStatus = 200;
let publicKey: Awaited<ReturnType<typeof generateKeyPair>>['publicKey'];

const server = setupServer(
  http.post(TOKEN_URL, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    tokenRequests.push(form);
    if (tokenStatus !== 200) return HttpResponse.json({ error: 'invalid_client' }, { status: tokenStatus });
    return HttpResponse.json({ access_token: `token-${tokenRequests.length}`, token_type: 'bearer', expires_in: 300 });
  }),
);

describe('partner credentials', () => {
  let privatePem: string;
  let privateJwk: JWK;
  beforeAll(async () => {
    server.listen({ onUnhandledRequest: 'error' });
    const pair = await generateKeyPair('ES384', { extractable: true });
    publicKey = pair.publicKey;
    privatePem = await exportPKCS8(pair.privateKey);
    privateJwk = await exportJWK(pair.privateKey);
  });
  afterAll(() => server.close());

  const smart = (privateKey: string): Partner => ({
    id: 'gp',
    endpoint: 'https://partner.test/fhir',
    addresses: [],
    timeoutSeconds: 5,
    auth: { type: 'smart-backend', tokenUrl: TOKEN_URL, clientId: 'stepwise', privateKey, alg: 'ES384', kid: 'k1', scope: 'system/ServiceRequest.c' },
  });

  it('SMART backend services: a signed client assertion for a token, kept until shortly before it expires', async () => {
    const clock = new FixedClock(new Date('2026-03-02T09:00:00Z'));
    const creds = new PartnerCredentials(clock, fetchTransport);
    tokenRequests.length = 0;
    expect(await creds.authorization(smart(privatePem))).toBe('Bearer token-1');
    const form = tokenRequests[0];
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('scope')).toBe('system/ServiceRequest.c');
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const { payload, protectedHeader } = await jwtVerify(form.get('client_assertion')!, publicKey, { audience: TOKEN_URL, issuer: 'stepwise', currentDate: clock.now() });
    expect(protectedHeader).toMatchObject({ alg: 'ES384', kid: 'k1' });
    expect(payload.sub).toBe('stepwise');
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.jti).toEqual(expect.any(String));
    // kept: no second request
    clock.advance(200_000);
    expect(await creds.authorization(smart(privatePem))).toBe('Bearer token-1');
    expect(tokenRequests).toHaveLength(1);
    // within 30 s of expiry it is renewed
    clock.advance(75_000);
    expect(await creds.authorization(smart(privatePem))).toBe('Bearer token-2');
    // a 401 from the partner makes it forget the token
    creds.forget(smart(privatePem));
    expect(await creds.authorization(smart(privatePem))).toBe('Bearer token-3');
  });

  it('takes the private key as a JWK too; a refused token request is a CredentialsError naming the endpoint', async () => {
    const creds = new PartnerCredentials(new FixedClock(new Date('2026-03-02T09:00:00Z')), fetchTransport);
    expect(await creds.authorization(smart(JSON.stringify(privateJwk)))).toMatch(/^Bearer token-\d+$/);
    tokenStatus = 401;
    const other = new PartnerCredentials(new FixedClock(new Date('2026-03-02T09:00:00Z')), fetchTransport);
    await expect(other.authorization(smart(privatePem))).rejects.toThrow(CredentialsError);
    await expect(other.authorization(smart(privatePem))).rejects.toThrow(`token endpoint ${TOKEN_URL} answered 401`);
    tokenStatus = 200;
  });

  it('none and bearer need no request', async () => {
    const creds = new PartnerCredentials(new FixedClock(new Date()), fetchTransport);
    const base = { id: 'x', endpoint: 'https://p.test/fhir', addresses: [], timeoutSeconds: 5 };
    expect(await creds.authorization({ ...base, auth: { type: 'none' } })).toBeUndefined();
    expect(await creds.authorization({ ...base, auth: { type: 'bearer', token: 'abc' } })).toBe('Bearer abc');
  });
});

describe('STEPWISE_PARTNERS', () => {
  it('reads partners, with defaults, and finds one by id or address', () => {
    const partners = loadPartners({ STEPWISE_PARTNERS: JSON.stringify([{ id: 'beech-house', endpoint: 'https://gp.example/fhir/', addresses: ['https://fhir.nhs.uk/Id/dos-service-id|2000099999'] }]) });
    expect(partners).toEqual([{ id: 'beech-house', endpoint: 'https://gp.example/fhir', addresses: ['https://fhir.nhs.uk/Id/dos-service-id|2000099999'], auth: { type: 'none' }, timeoutSeconds: 30 }]);
    expect(partnerFor(partners, 'beech-house')).toBe(partners[0]);
    expect(partnerFor(partners, 'https://fhir.nhs.uk/Id/dos-service-id|2000099999')).toBe(partners[0]);
    expect(partnerFor(partners, 'https://fhir.nhs.uk/Id/dos-service-id|1')).toBeUndefined();
    expect(loadPartners({})).toEqual([]);
  });

  it.each([
    ['not JSON', '[', /STEPWISE_PARTNERS: not JSON/],
    ['a bad endpoint', '[{"id":"a","endpoint":"ftp://x"}]', /STEPWISE_PARTNERS\[0\]\["endpoint"\]/],
    ['an unknown auth type', '[{"id":"a","endpoint":"https://x.test","auth":{"type":"basic"}}]', /STEPWISE_PARTNERS\[0\]\["auth"\]/],
    ['a SMART client without its key', '[{"id":"a","endpoint":"https://x.test","auth":{"type":"smart-backend","tokenUrl":"https://x.test/token","clientId":"c"}}]', /\["auth"\]\["privateKey"\]/],
    ['two partners with one id', '[{"id":"a","endpoint":"https://x.test"},{"id":"a","endpoint":"https://y.test"}]', /two partners share an id/],
    ['two partners with one address', '[{"id":"a","endpoint":"https://x.test","addresses":["s|1"]},{"id":"b","endpoint":"https://y.test","addresses":["s|1"]}]', /two partners share an address/],
  ])('refuses %s, naming the variable and the item', (_what, value, message) => {
    expect(() => loadPartners({ STEPWISE_PARTNERS: value })).toThrow(message);
  });
});

describe('the delivery settings', () => {
  it('are read with their defaults, and a lease no longer than a partner timeout is refused', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const partners = JSON.stringify([{ id: 'gp', endpoint: 'https://gp.example/fhir', timeoutSeconds: 30 }]);
    const c = loadConfig({ STEPWISE_PARTNERS: partners });
    expect(c.delivery).toEqual({ enabled: true, intervalMs: 1000, concurrency: 16, backoffMs: 5000, maxBackoffMs: 3_600_000, horizonMs: 72 * 3_600_000, leaseMs: 120_000 });
    expect(c.organisation).toEqual({ odsCode: 'RV5', name: 'Stepwise mental health trust' });
    expect(loadConfig({ STEPWISE_DELIVERY: 'off', STEPWISE_DELIVERY_HORIZON_HOURS: '1' }).delivery).toMatchObject({ enabled: false, horizonMs: 3_600_000 });
    expect(() => loadConfig({ STEPWISE_PARTNERS: partners, STEPWISE_DELIVERY_LEASE_SECONDS: '30' })).toThrow(/STEPWISE_DELIVERY_LEASE_SECONDS: must be longer than every partner's timeoutSeconds \(gp: 30\)/);
    expect(() => loadConfig({ STEPWISE_PARTNERS: '[{"id":"x"}]' })).toThrow(/STEPWISE_PARTNERS\[0\]\["endpoint"\]/);
    expect(() => loadConfig({ STEPWISE_ODS_CODE: 'not one' })).toThrow(/STEPWISE_ODS_CODE/);
  });
});

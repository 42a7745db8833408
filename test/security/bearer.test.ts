import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDP_AUDIENCE, IDP_ISSUER, signed, startAuthApp, testKey, userToken, type AuthTestApp, type TestKey, json } from './support.js';

let rs: TestKey;
let es: TestKey;
let app: AuthTestApp;

beforeAll(async () => {
  [rs, es] = await Promise.all([testKey('RS384'), testKey('ES384')]);
  app = await startAuthApp({ idpKeys: [rs, es], serverKey: await testKey('ES384') });
});
afterAll(() => app.close());

async function expectUnauthorized(res: Response, error?: 'invalid_token') {
  expect(res.status).toBe(401);
  const challenge = res.headers.get('WWW-Authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer realm="stepwise"/);
  if (error) expect(challenge).toContain(`error="${error}"`);
  else expect(challenge).not.toContain('error=');
  const outcome = await json(res);
  expect(outcome).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
  return outcome as { issue: { diagnostics: string }[] };
}

describe('bearer tokens (RFC 6750) from the identity provider', () => {
  it('answers 401 with a Bearer challenge and no error code when there is no token', async () => {
    await expectUnauthorized(await app.fhir('GET', 'Patient'));
    await expectUnauthorized(await app.fhir('GET', 'Patient', undefined, { Authorization: 'Basic dXNlcjpwYXNz' }));
  });

  it.each(['RS384', 'ES384'] as const)('accepts a valid %s token', async (alg) => {
    const res = await app.as(await userToken(alg === 'RS384' ? rs : es, 'user/Patient.rs'), 'GET', 'Patient');
    expect(res.status).toBe(200);
    expect((await json(res)).resourceType).toBe('Bundle');
  });

  it('refuses an expired token, beyond the clock skew', async () => {
    const outcome = await expectUnauthorized(await app.as(await userToken(rs, 'user/Patient.rs', {}, -60), 'GET', 'Patient'), 'invalid_token');
    expect(outcome.issue[0].diagnostics).toContain('expired');
  });

  it('accepts a token just expired within the clock skew (5 s)', async () => {
    expect((await app.as(await userToken(rs, 'user/Patient.rs', {}, -2), 'GET', 'Patient')).status).toBe(200);
  });

  it('refuses a token from an issuer it does not trust, and one for another audience', async () => {
    await expectUnauthorized(await app.as(await userToken(rs, 'user/Patient.rs', { iss: 'https://evil.example' }), 'GET', 'Patient'), 'invalid_token');
    const wrongAud = await expectUnauthorized(await app.as(await userToken(rs, 'user/Patient.rs', { aud: 'another-api' }), 'GET', 'Patient'), 'invalid_token');
    expect(wrongAud.issue[0].diagnostics).toContain('aud');
  });

  it('refuses a token whose signature does not verify (signed by another key under a trusted kid)', async () => {
    const impostor = await testKey('RS384', rs.kid);
    await expectUnauthorized(await app.as(await userToken(impostor, 'user/Patient.rs'), 'GET', 'Patient'), 'invalid_token');
    const good = await userToken(rs, 'user/Patient.rs');
    const tampered = good.replace(/\.([^.]+)\./, (_, p: string) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'user/*.cruds' })).toString('base64url')}.`);
    await expectUnauthorized(await app.as(tampered, 'GET', 'Patient'), 'invalid_token');
  });

  it('refuses alg none and HS256 keyed with the public key (algorithm confusion)', async () => {
    const claims = { iss: IDP_ISSUER, aud: IDP_AUDIENCE, sub: 'x', scope: 'user/*.cruds', exp: Math.floor(Date.now() / 1000) + 300 };
    const none = new UnsecuredJWT(claims).encode();
    await expectUnauthorized(await app.as(none, 'GET', 'Patient'), 'invalid_token');
    const secret = new TextEncoder().encode(JSON.stringify(rs.publicJwk));
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: rs.kid }).sign(secret);
    const outcome = await expectUnauthorized(await app.as(hs, 'GET', 'Patient'), 'invalid_token');
    expect(outcome.issue[0].diagnostics).toContain('algorithm');
  });

  it('refuses what is not a JWT, and a token naming no user', async () => {
    await expectUnauthorized(await app.as('not-a-jwt', 'GET', 'Patient'), 'invalid_token');
    await expectUnauthorized(await app.as(await signed(rs, { iss: IDP_ISSUER, aud: IDP_AUDIENCE, scope: 'user/*.rs' }), 'GET', 'Patient'), 'invalid_token');
  });

  it('serves the CapabilityStatement without a token, and says there how to get one', async () => {
    const res = await app.fhir('GET', 'metadata');
    expect(res.status).toBe(200);
    const cs = await json(res);
    expect(cs.rest[0].security.service[0].coding[0]).toMatchObject({ code: 'SMART-on-FHIR' });
  });

  it('does not let BaRS headers stand in for a token: a message without one is 401', async () => {
    const res = await app.fhir('POST', '$process-message', { resourceType: 'Bundle', type: 'message' }, { 'NHSD-End-User-Organisation': 'eyJ4IjoxfQ==', 'NHSD-Target-Identifier': 'x' });
    await expectUnauthorized(res);
  });
});

describe('an identity provider whose JWKS is at a URL', () => {
  let server: Server;
  let remote: AuthTestApp;
  let fetched = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetched++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [es.publicJwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const jwks = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    remote = await startAuthApp({ idp: { issuer: IDP_ISSUER, audience: IDP_AUDIENCE, jwks }, serverKey: await testKey('ES384') });
  });
  afterAll(async () => {
    await remote.close();
    await new Promise((r) => server.close(r));
  });

  it('fetches the keys, verifies with them, and keeps them for the next request', async () => {
    const token = await userToken(es, 'user/Patient.rs');
    expect((await remote.as(token, 'GET', 'Patient')).status).toBe(200);
    expect((await remote.as(token, 'GET', 'Patient')).status).toBe(200);
    expect(fetched).toBe(1);
    expect((await remote.as(await userToken(rs, 'user/Patient.rs'), 'GET', 'Patient')).status).toBe(401);
  });
});

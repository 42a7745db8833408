import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID_SYSTEM } from '../../src/security/principal.js';
import { postgresTestDatabase, type TestDatabase } from '../support/databases.js';
import { clientAssertion, startAuthApp, testKey, tokenForm, TOKEN_URL, type AuthTestApp, type TestKey, json } from './support.js';

let gpKey: TestKey;
let labKey: TestKey;
let serverKey: TestKey;
let app: AuthTestApp;

const clients = () => [
  { clientId: 'gp-system', jwks: { keys: [gpKey.publicJwk] }, scopes: 'system/Patient.cruds system/ServiceRequest.cruds system/AuditEvent.rs', organisation: 'A83627', teams: ['*'] },
  { clientId: 'lab-system', jwks: { keys: [labKey.publicJwk] }, scopes: ['system/Observation.c'] },
];

beforeAll(async () => {
  [gpKey, labKey, serverKey] = await Promise.all([testKey('RS384'), testKey('ES384'), testKey('ES384')]);
  app = await startAuthApp({ clients: clients(), serverKey });
});
afterAll(() => app.close());

async function oauthError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  const body = await json(res);
  expect(body).toMatchObject({ error });
  expect(typeof body.error_description).toBe('string');
  return body as { error: string; error_description: string };
}

describe('SMART Backend Services: client_credentials with a signed assertion', () => {
  it('issues a short-lived token for what was asked and registered, which then opens the API', async () => {
    const res = await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system'), 'system/Patient.rs system/Task.rs system/*.c'));
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = await json(res);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 300 });
    // Task is not registered; *.c narrows to the registered types
    expect(body.scope.split(' ').sort()).toEqual(['system/Patient.c', 'system/Patient.rs', 'system/ServiceRequest.c']);
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ iss: 'http://stepwise.test/fhir', aud: 'http://stepwise.test/fhir', sub: 'gp-system', client_id: 'gp-system', organisation: 'A83627', teams: ['*'] });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(decodeProtectedHeader(body.access_token)).toMatchObject({ alg: 'ES384', kid: serverKey.kid, typ: 'at+jwt' });
    expect((await app.as(body.access_token, 'GET', 'Patient')).status).toBe(200);
    expect((await app.as(body.access_token, 'GET', 'Task')).status).toBe(403);
  });

  it('accepts an ES384 assertion as well as RS384', async () => {
    const res = await app.token(tokenForm(await clientAssertion(labKey, 'lab-system'), 'system/Observation.c'));
    expect(res.status).toBe(200);
    expect((await json(res)).scope).toBe('system/Observation.c');
  });

  it('refuses an assertion used twice (its jti is spent)', async () => {
    const assertion = await clientAssertion(gpKey, 'gp-system');
    expect((await app.token(tokenForm(assertion, 'system/Patient.rs'))).status).toBe(200);
    const again = await oauthError(await app.token(tokenForm(assertion, 'system/Patient.rs')), 401, 'invalid_client');
    expect(again.error_description).toContain('jti');
  });

  it('refuses an assertion for another audience', async () => {
    const body = await oauthError(await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system', { aud: 'https://other.example/token' }), 'system/Patient.rs')), 401, 'invalid_client');
    expect(body.error_description).toContain(TOKEN_URL);
  });

  it('refuses an assertion that expires more than five minutes ahead, and one already expired', async () => {
    const far = await oauthError(await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system', {}, 600), 'system/Patient.rs')), 401, 'invalid_client');
    expect(far.error_description).toContain('five minutes');
    await oauthError(await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system', {}, -60), 'system/Patient.rs')), 401, 'invalid_client');
  });

  it('refuses an unknown client, a client signing with a key not its own, and iss differing from sub', async () => {
    await oauthError(await app.token(tokenForm(await clientAssertion(gpKey, 'stranger'), 'system/Patient.rs')), 401, 'invalid_client');
    await oauthError(await app.token(tokenForm(await clientAssertion(labKey, 'gp-system'), 'system/Patient.rs')), 401, 'invalid_client');
    await oauthError(await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system', { sub: 'lab-system' }), 'system/Patient.rs')), 401, 'invalid_client');
  });

  it('refuses an assertion signed with HS256 or RS256', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'gp-system', sub: 'gp-system', aud: TOKEN_URL, jti: `hs-${now}`, exp: now + 60 };
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(JSON.stringify(gpKey.publicJwk)));
    const body = await oauthError(await app.token(tokenForm(hs, 'system/Patient.rs')), 401, 'invalid_client');
    expect(body.error_description).toContain('RS384 or ES384');
  });

  it('answers unsupported_grant_type, invalid_scope and invalid_request per RFC 6749 §5.2', async () => {
    const assertion = await clientAssertion(gpKey, 'gp-system');
    await oauthError(await app.token(tokenForm(assertion, 'system/Patient.rs', { grant_type: 'password' })), 400, 'unsupported_grant_type');
    await oauthError(await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system'), 'system/Task.rs')), 400, 'invalid_scope');
    await oauthError(await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system'), '')), 400, 'invalid_scope');
    const { grant_type: _, ...noGrant } = tokenForm(assertion, 'system/Patient.rs');
    await oauthError(await app.token(noGrant), 400, 'invalid_request');
    await oauthError(await app.token(tokenForm(assertion, 'system/Patient.rs', { client_assertion_type: 'urn:other' })), 401, 'invalid_client');
    const json = await app.app.request(TOKEN_URL, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    await oauthError(json, 400, 'invalid_request');
  });

  it('records the client as the requestor of the AuditEvent of a write', async () => {
    const { access_token } = await json(await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system'), 'system/Patient.c system/AuditEvent.rs')));
    const created = await json(await app.as(access_token, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Audited' }] }));
    const page = await json(await app.as(access_token, 'GET', 'AuditEvent?_count=1000'));
    const audit = page.entry.map((e: { resource: unknown }) => e.resource).find((a: { entity?: { what?: { reference?: string } }[] }) => a.entity?.some((e) => e.what?.reference?.startsWith(`Patient/${created.id}/`)));
    expect(audit).toBeDefined();
    expect(audit.agent.find((a: { requestor: boolean }) => a.requestor).who).toMatchObject({ identifier: { system: CLIENT_ID_SYSTEM, value: 'gp-system' }, display: 'gp-system (A83627)' });
  });
});

describe('replay protection across instances on one PostgreSQL database', () => {
  let db: TestDatabase;
  let first: AuthTestApp;
  let second: AuthTestApp;

  beforeAll(async () => {
    db = await postgresTestDatabase(4);
    const shared = async () => ({ ...db, dispose: async () => {} });
    first = await startAuthApp({ clients: clients(), serverKey, open: shared });
    second = await startAuthApp({ clients: clients(), serverKey, open: shared });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await db?.dispose();
  });

  it('an assertion spent at one instance is refused at the other, and the token of one is good at the other', async () => {
    const assertion = await clientAssertion(gpKey, 'gp-system');
    const res = await first.token(tokenForm(assertion, 'system/Patient.rs'));
    expect(res.status).toBe(200);
    await oauthError(await second.token(tokenForm(assertion, 'system/Patient.rs')), 401, 'invalid_client');
    expect((await second.as((await json(res)).access_token, 'GET', 'Patient')).status).toBe(200);
  });

  it('of two instances given the same assertion at once, exactly one issues a token', async () => {
    const assertion = await clientAssertion(gpKey, 'gp-system');
    const answers = await Promise.all([first, second, first, second].map((a) => a.token(tokenForm(assertion, 'system/Patient.rs'))));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
  });
});

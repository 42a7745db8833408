import type { Resource } from '@medplum/fhirtypes';
import { PATHWAY } from '../../src/pathway/codes.js';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { loadAuth } from '../../src/config/auth.js';
import type { Queryable } from '../../src/store/database.js';
import { createSecurity, type Security } from '../../src/security/security.js';
import { BASE, startTestApp, type TestApp } from '../support/app.js';
import { pgliteTestDatabase, type TestDatabase } from '../support/databases.js';

/** The token endpoint of the test app (BASE is http://stepwise.test/fhir). */
export const TOKEN_URL = 'http://stepwise.test/auth/token';
export const IDP_ISSUER = 'https://idp.stepwise.test';
export const IDP_AUDIENCE = 'stepwise-api';

export interface TestKey {
  alg: 'RS384' | 'ES384';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

/** A key pair made by jose for the test, with its public JWK as a JWKS would hold it. */
export async function testKey(alg: 'RS384' | 'ES384', kid = `${alg}-${randomUUID().slice(0, 8)}`): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg }, privateJwk: await exportJWK(privateKey) };
}

/** A JWT signed with `key`: claims as given, exp in `expiresIn` seconds unless claims set it. */
export function signed(key: TestKey, claims: JWTPayload, expiresIn = 300): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + expiresIn, ...claims }).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}

/** A user token from the test identity provider. */
export function userToken(key: TestKey, scope: string, extra: JWTPayload = {}, expiresIn = 300): Promise<string> {
  return signed(key, { iss: IDP_ISSUER, aud: IDP_AUDIENCE, sub: 'clinician-1', azp: 'stepwise-web', scope, organisation: 'RAT', teams: ['cmht-north'], ...extra }, expiresIn);
}

/** A SMART Backend Services client assertion (RFC 7523) for `clientId`. */
export function clientAssertion(key: TestKey, clientId: string, claims: JWTPayload = {}, expiresIn = 240): Promise<string> {
  return signed(key, { iss: clientId, sub: clientId, aud: TOKEN_URL, jti: randomUUID(), ...claims }, expiresIn);
}

export interface AuthTestApp extends TestApp {
  security: Security;
  /** A FHIR request with `Authorization: Bearer token`. */
  as(token: string, method: string, path: string, body?: unknown): Promise<Response>;
  /** POST /auth/token with the form fields. */
  token(form: Record<string, string>): Promise<Response>;
}

export interface AuthSetup {
  clients?: unknown[];
  idpKeys?: TestKey[];
  /** STEPWISE_IDP as given, in place of the inline test provider. */
  idp?: unknown;
  serverKey: TestKey;
  open?: () => Promise<TestDatabase>;
}

/** The test app with STEPWISE_AUTH=on, configured through the same checked environment as the server. */
export async function startAuthApp(setup: AuthSetup): Promise<AuthTestApp> {
  const idp = setup.idp ?? (setup.idpKeys ? { issuer: IDP_ISSUER, audience: IDP_AUDIENCE, jwks: { keys: setup.idpKeys.map((k) => k.publicJwk) }, algorithms: ['RS384', 'ES384'] } : undefined);
  const auth = loadAuth(
    {
      STEPWISE_AUTH: 'on',
      STEPWISE_CLIENTS: setup.clients ? JSON.stringify(setup.clients) : undefined,
      STEPWISE_IDP: idp ? JSON.stringify(idp) : undefined,
      STEPWISE_TOKEN_KEY: JSON.stringify({ ...setup.serverKey.privateJwk, kid: setup.serverKey.kid }),
      STEPWISE_CLOCK_SKEW_SECONDS: '5',
    },
    {},
  );
  let db: Queryable | undefined;
  const security = (await createSecurity(auth, { database: () => db }))!;
  const t = await startTestApp(setup.open ?? pgliteTestDatabase, { security });
  db = t.t.db;
  return {
    ...t,
    security,
    as: (token, method, path, body) => t.fhir(method, path, body, { Authorization: `Bearer ${token}` }),
    token: (form) =>
      Promise.resolve(t.app.request(TOKEN_URL, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() })),
  };
}

/** The form of a client_credentials token request. */
export function tokenForm(assertion: string, scope: string, extra: Record<string, string> = {}): Record<string, string> {
  return { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope, ...extra };
}

export { BASE };

/** A response's JSON, loosely typed: the tests look into OperationOutcomes, Bundles and OAuth answers alike. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = (res: Response): Promise<any> => res.json();

/** A pathway Task waiting in `teamId`'s queue for `patient` (the team in its owner and in task-team): what puts the person on that team's caseload. */
export function teamTask(id: string, patient: string, teamId: string, extra: Record<string, unknown> = {}): Resource {
  return {
    resourceType: 'Task',
    id,
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    for: { reference: `Patient/${patient}` },
    owner: { reference: `Organization/${teamId}` },
    extension: [{ url: PATHWAY.taskTeam, valueReference: { reference: `Organization/${teamId}` } }],
    restriction: { period: { end: '2030-01-01T00:00:00Z' } },
    ...extra,
  } as Resource;
}

/** A final Observation about `patient`, coded `code` (searchable as `code=` and as `code:text=`). */
export function observationOf(id: string, patient: string, code = 'mood'): Resource {
  return { resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://example.org/codes', code }], text: code }, subject: { reference: `Patient/${patient}` } } as Resource;
}

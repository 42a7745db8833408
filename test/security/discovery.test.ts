import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { startAuthApp, testKey, type AuthTestApp, json } from './support.js';

let app: AuthTestApp;

beforeAll(async () => {
  const key = await testKey('RS384');
  app = await startAuthApp({ clients: [{ clientId: 'gp-system', jwks: { keys: [key.publicJwk] }, scopes: 'system/*.rs' }], serverKey: await testKey('ES384') });
});
afterAll(() => app.close());

describe('SMART discovery', () => {
  it.each(['http://stepwise.test/.well-known/smart-configuration', 'http://stepwise.test/fhir/.well-known/smart-configuration'])('serves %s without a token', async (url) => {
    const res = await app.app.request(url);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      token_endpoint: 'http://stepwise.test/auth/token',
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      scopes_supported: expect.arrayContaining(['system/*.rs', 'stepwise/admin']),
      capabilities: expect.arrayContaining(['client-confidential-asymmetric', 'permission-v2']),
    });
  });

  it('says the same in the CapabilityStatement: SMART-on-FHIR with the token endpoint in oauth-uris', async () => {
    const cs = await json(await app.fhir('GET', 'metadata'));
    const security = cs.rest[0].security;
    expect(security.service[0].coding[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR', display: 'SMART-on-FHIR' });
    const uris = security.extension.find((e: { url: string }) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
    expect(uris.extension).toEqual([{ url: 'token', valueUri: 'http://stepwise.test/auth/token' }]);
  });

  it('is not served with authentication off, and the CapabilityStatement then claims no security', async () => {
    const off: TestApp = await startTestApp();
    try {
      expect((await off.app.request('http://stepwise.test/.well-known/smart-configuration')).status).toBe(404);
      expect((await off.app.request('http://stepwise.test/auth/token', { method: 'POST' })).status).toBe(404);
      expect((await json(await off.fhir('GET', 'metadata'))).rest[0].security).toBeUndefined();
    } finally {
      await off.close();
    }
  });
});

import type { AuditEvent } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { clientAssertion, startAuthApp, testKey, tokenForm, type AuthTestApp, type TestKey } from './support.js';

/** Issue 13: every request leaves its AuditEvent, the token endpoint's too (issued or refused). */
describe('the token endpoint is audited', () => {
  let gpKey: TestKey;
  let app: AuthTestApp;
  beforeAll(async () => {
    gpKey = await testKey('RS384');
    const clients = [{ clientId: 'gp-system', jwks: { keys: [gpKey.publicJwk] }, scopes: 'system/Patient.rs', organisation: 'A83627', teams: ['*'] }];
    app = await startAuthApp({ clients, serverKey: await testKey('ES384') });
  });
  afterAll(() => app.close());

  const tokenAudits = async (): Promise<AuditEvent[]> => {
    const page = await app.store.search(parseSearch('AuditEvent', [['subtype', 'operation'], ['_count', '100']]));
    return (page.matches as AuditEvent[]).filter((e) => e.entity?.some((x) => x.name?.includes('/auth/token')));
  };
  const claimed = (e: AuditEvent) => e.entity?.flatMap((x) => x.detail ?? []).find((d) => d.type === 'client_id (claimed)')?.valueString;

  it('records an issued token and a refused one, each with the client it claimed to be and its outcome', async () => {
    expect((await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system'), 'system/Patient.rs'))).status).toBe(200);
    expect((await app.token(tokenForm(await clientAssertion(gpKey, 'impostor'), 'system/Patient.rs'))).status).toBe(401);
    const audits = await tokenAudits();
    // exactly one each: the request audit around the endpoint adds none of its own
    expect(audits).toHaveLength(2);
    const [refused, issued] = audits;
    expect(issued).toMatchObject({ outcome: '0', action: 'E' });
    expect(claimed(issued)).toBe('gp-system');
    expect(refused).toMatchObject({ outcome: '4', outcomeDesc: expect.stringContaining('invalid_client') });
    expect(claimed(refused)).toBe('impostor');
    // a claim is not an identity: the requesting agent names it as claimed
    expect(refused.agent[0].who?.display).toBe('impostor (claimed client id)');
  });

  it('records a fetch of the SMART discovery document, at the root and under the FHIR base, once each', async () => {
    const discoveryAudits = async () => {
      const page = await app.store.search(parseSearch('AuditEvent', [['_count', '200']]));
      return (page.matches as AuditEvent[]).filter((e) => e.entity?.some((x) => x.name?.includes('.well-known/smart-configuration')));
    };
    const before = (await discoveryAudits()).length;
    expect((await app.app.request('http://stepwise.test/.well-known/smart-configuration')).status).toBe(200);
    expect((await app.app.request('http://stepwise.test/fhir/.well-known/smart-configuration')).status).toBe(200);
    const after = await discoveryAudits();
    expect(after).toHaveLength(before + 2);
    expect(after.every((e) => e.outcome === '0')).toBe(true);
  });
});

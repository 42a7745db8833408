import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID_SYSTEM } from '../../src/security/principal.js';
import { encodeJsonHeader } from '../../src/messaging/headers.js';
import { barsHeaders, FRONT_DOOR_DOS, headersAsHttp, REFERRAL_CONTEXT, referralMessage } from '../messaging/support.js';
import { clientAssertion, json, startAuthApp, testKey, tokenForm, type AuthTestApp, type TestKey } from './support.js';

/**
 * Issue 13: "BaRS senders authenticate the same way. The BaRS headers are recorded, never trusted."
 * A message's AuditEvent names the authenticated client as its requestor; what the
 * NHSD-End-User-Organisation header claims is recorded beside it, not as who sent it.
 */
let app: AuthTestApp;
let gpKey: TestKey;
beforeAll(async () => {
  gpKey = await testKey('ES384');
  app = await startAuthApp({
    serverKey: await testKey('ES384'),
    clients: [
      { clientId: 'gp-system', jwks: { keys: [gpKey.publicJwk] }, scopes: 'system/ServiceRequest.crs system/MessageHeader.c', organisation: 'A83627', teams: [] },
      { clientId: 'auditor', jwks: { keys: [gpKey.publicJwk] }, scopes: 'system/AuditEvent.rs', teams: ['*'] },
    ],
  });
});
afterAll(() => app.close());

async function tokenFor(clientId: string, scope: string): Promise<string> {
  const res = await app.token(tokenForm(await clientAssertion(gpKey, clientId), scope));
  expect(res.status).toBe(200);
  return (await json(res)).access_token;
}

describe('the audit of a BaRS message sent with a client token', () => {
  it('names the authenticated client as requestor, and the header organisation only as what the sender claimed', async () => {
    const gp = await tokenFor('gp-system', 'system/ServiceRequest.crs system/MessageHeader.c');
    // the header claims another practice than the one the client is registered for
    const headers = barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT, {
      endUserOrganisation: encodeJsonHeader({ resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y99999' }], name: 'Claimed practice' }),
    });
    const m = referralMessage({ nhsNumber: '9434765919' });
    const res = await app.app.request('http://stepwise.test/fhir/$process-message', {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', Authorization: `Bearer ${gp}`, ...headersAsHttp(headers) },
      body: JSON.stringify(m),
    });
    expect(res.status, await res.clone().text()).toBe(200);

    const auditor = await tokenFor('auditor', 'system/AuditEvent.rs');
    const found = (await json(await app.as(auditor, 'GET', `AuditEvent?subtype=operation&_count=50`))) as Bundle<AuditEvent>;
    const audits = (found.entry ?? []).map((e) => e.resource!).filter((a) => a.entity?.some((e) => e.detail?.some((d) => d.type === 'Bundle.id' && d.valueString === m.id)));
    expect(audits).toHaveLength(1);
    const [audit] = audits;
    const requestors = audit.agent.filter((a) => a.requestor);
    expect(requestors).toHaveLength(1);
    expect(requestors[0].who).toMatchObject({ identifier: { system: CLIENT_ID_SYSTEM, value: 'gp-system' } });
    // the registered organisation acts with it; the claimed one is no agent at all
    const odsAgents = audit.agent.map((a) => a.who?.identifier?.value);
    expect(odsAgents).toContain('A83627');
    expect(odsAgents).not.toContain('Y99999');
    expect(audit.entity?.[0].detail).toEqual(
      expect.arrayContaining([{ type: 'NHSD-End-User-Organisation (claimed)', valueString: 'https://fhir.nhs.uk/Id/ods-organization-code|Y99999 (Claimed practice)' }]),
    );
  });
});

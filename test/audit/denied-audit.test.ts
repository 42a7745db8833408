import type { AuditEvent } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID_SYSTEM } from '../../src/security/principal.js';
import { clientAssertion, json, startAuthApp, testKey, tokenForm, userToken, type AuthTestApp, type TestKey } from '../security/support.js';

let app: AuthTestApp;
let userKey: TestKey;
let adminKey: TestKey;

async function mark(): Promise<number> {
  return Number((await app.t.db.query<{ n: string }>('SELECT coalesce(max(seq), 0)::text AS n FROM audit_event'))[0].n);
}
async function since(at: number): Promise<AuditEvent[]> {
  const rows = await app.t.db.query<{ content: string }>('SELECT content FROM audit_event WHERE seq > $1 ORDER BY seq', [at]);
  return rows.map((r) => JSON.parse(r.content) as AuditEvent);
}
const versions = async () => Number((await app.t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM resource_version'))[0].n);

/** An administrator's token: a registered client granted everything. */
async function adminToken(): Promise<string> {
  return (await json(await app.token(tokenForm(await clientAssertion(adminKey, 'admin-console'), 'system/*.cruds')))).access_token;
}

beforeAll(async () => {
  userKey = await testKey('ES384');
  adminKey = await testKey('ES384');
  app = await startAuthApp({
    idpKeys: [userKey],
    serverKey: await testKey('ES384'),
    clients: [{ clientId: 'admin-console', jwks: { keys: [adminKey.publicJwk] }, scopes: 'system/*.cruds', organisation: 'RAT' }],
  });
});
afterAll(() => app.close());

describe('denied requests are audited, with who asked', () => {
  it('a request without a token (401) leaves one AuditEvent of an unauthenticated caller, outcome 4', async () => {
    const at = await mark();
    expect((await app.fhir('GET', 'Patient')).status).toBe(401);
    const [audit, ...more] = await since(at);
    expect(more).toEqual([]);
    expect([audit.subtype?.[0].code, audit.outcome]).toEqual(['search-type', '4']);
    expect(audit.agent.find((a) => a.requestor)?.who?.display).toBe('unauthenticated caller');
    expect(audit.outcomeDesc).toMatch(/bearer token/);
  });

  it('a write the scopes forbid (403) leaves one AuditEvent naming the user, their app and organisation, and nothing else', async () => {
    const [at, before] = [await mark(), await versions()];
    const res = await app.as(await userToken(userKey, 'user/Task.rs'), 'POST', 'Task', { resourceType: 'Task', status: 'requested', intent: 'order' });
    expect(res.status).toBe(403);
    const [audit, ...more] = await since(at);
    expect(more).toEqual([]);
    expect([audit.subtype?.[0].code, audit.action, audit.outcome]).toEqual(['create', 'C', '4']);
    const [user, client, organisation] = audit.agent;
    expect(user).toMatchObject({ requestor: true, who: { identifier: { value: 'clinician-1' } } });
    expect(client).toMatchObject({ requestor: false, who: { identifier: { system: CLIENT_ID_SYSTEM, value: 'stepwise-web' } } });
    expect(organisation).toMatchObject({ requestor: false, who: { identifier: { value: 'RAT' } } });
    expect(await versions()).toBe(before);
  });
});

describe('AuditEvent is append-only, also for administrators', () => {
  it('a token with system/*.cruds still gets 405 on update, patch and delete, and the event is unchanged', async () => {
    const token = await adminToken();
    const [row] = await app.t.db.query<{ id: string; content: string }>('SELECT id, content FROM audit_event ORDER BY seq LIMIT 1');
    const event = JSON.parse(row.content) as AuditEvent;
    for (const [method, body] of [['PUT', { ...event, outcome: '8' }], ['DELETE', undefined]] as const) {
      const res = await app.as(token, method, `AuditEvent/${row.id}`, body);
      expect(res.status, method).toBe(405);
    }
    const patch = await app.fhir('PATCH', `AuditEvent/${row.id}`, [{ op: 'replace', path: '/outcome', value: '8' }], {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json-patch+json',
    });
    expect(patch.status).toBe(405);
    expect((await app.as(token, 'DELETE', 'AuditEvent?outcome=4')).status).toBe(405);
    // each refusal is itself audited, as the administrator's
    const refusals = (await app.t.db.query<{ content: string }>("SELECT content FROM audit_event WHERE outcome = '4' AND agent = $1", [`${CLIENT_ID_SYSTEM}|admin-console`])).map((r) => JSON.parse(r.content) as AuditEvent);
    expect(refusals.map((a) => a.subtype?.[0].code).sort()).toEqual(['delete', 'delete', 'patch', 'update']);
    expect((await app.t.db.query<{ content: string }>('SELECT content FROM audit_event WHERE id = $1', [row.id]))[0].content).toBe(row.content);
  });
});

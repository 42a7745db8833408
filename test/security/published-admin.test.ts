import type { CodeSystem, PlanDefinition } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepwiseCodeSystemUrl } from '../../src/fhir/canonical.js';
import { readTriageRules } from '../../src/pathway/rules-data.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { ADMIN_SCOPE } from '../../src/security/admin.js';
import { startTestApp } from '../support/app.js';
import { clientAssertion, json, startAuthApp, testKey, tokenForm, userToken, type AuthTestApp, type TestKey } from './support.js';

/**
 * Issue 13: published conformance resources and active rule versions are read-only to all but an
 * admin scope. The triage PlanDefinition and its CodeSystems are seeded as at start-up; a token
 * with every scope on the types but without stepwise/admin cannot change them.
 */
let key: TestKey;
let clientKey: TestKey;
let app: AuthTestApp;
const EVERY_TEAM = { teams: ['*'] };
const WRITER = 'user/PlanDefinition.cruds user/CodeSystem.cruds user/StructureDefinition.cruds';
const as = async (scope: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  app.fhir(method, path, body, { Authorization: `Bearer ${await userToken(key, scope, EVERY_TEAM)}`, ...headers });

beforeAll(async () => {
  key = await testKey('RS384');
  clientKey = await testKey('ES384');
  app = await startAuthApp({
    idpKeys: [key],
    serverKey: await testKey('ES384'),
    clients: [
      { clientId: 'rules-admin', jwks: { keys: [clientKey.publicJwk] }, scopes: `system/PlanDefinition.cruds ${ADMIN_SCOPE}`, teams: ['*'] },
      { clientId: 'integration', jwks: { keys: [clientKey.publicJwk] }, scopes: 'system/PlanDefinition.cruds', teams: ['*'] },
    ],
  });
  await seedPathwayData(app.store);
});
afterAll(() => app.close());

const rules = (): PlanDefinition => ({ ...readTriageRules(), description: 'rewritten' });
const versionOfRules = async () => (await app.store.read('PlanDefinition', 'front-door-triage')).meta!.versionId;

async function expectForbidden(res: Response, expression: string) {
  expect(res.status, await res.clone().text()).toBe(403);
  const issue = (await json(res)).issue[0];
  expect(issue.code).toBe('forbidden');
  expect(issue.expression).toEqual([expression]);
  expect(issue.diagnostics).toContain(ADMIN_SCOPE);
}

describe('published conformance resources and rule versions', () => {
  it('refuses update, patch, delete and a conditional update of the triage PlanDefinition without the admin scope', async () => {
    const before = await versionOfRules();
    await expectForbidden(await as(WRITER, 'PUT', 'PlanDefinition/front-door-triage', rules()), 'PlanDefinition.url');
    // a body without the url still replaces a published resource: the stored version decides too
    const { url: _url, ...unpublished } = rules();
    await expectForbidden(await as(WRITER, 'PUT', 'PlanDefinition/front-door-triage', unpublished), 'PlanDefinition.url');
    await expectForbidden(
      await as(WRITER, 'PATCH', 'PlanDefinition/front-door-triage', [{ op: 'replace', path: '/status', value: 'retired' }], { 'Content-Type': 'application/json-patch+json' }),
      'PlanDefinition.url',
    );
    await expectForbidden(await as(WRITER, 'DELETE', 'PlanDefinition/front-door-triage'), 'PlanDefinition.url');
    await expectForbidden(await as(WRITER, 'PUT', 'PlanDefinition?name=FrontDoorTriageRules', { ...unpublished, id: undefined }), 'PlanDefinition.url');
    expect(await versionOfRules()).toBe(before);
  });

  it('refuses a new resource claiming a Stepwise canonical url, and allows one under another base', async () => {
    const claimed: CodeSystem = { resourceType: 'CodeSystem', url: stepwiseCodeSystemUrl('fake'), status: 'active', content: 'complete', concept: [{ code: 'x' }] };
    await expectForbidden(await as(WRITER, 'POST', 'CodeSystem', claimed), 'CodeSystem.url');
    const local = await as(WRITER, 'POST', 'CodeSystem', { ...claimed, url: 'https://trust.example.nhs.uk/CodeSystem/local' });
    expect(local.status, await local.clone().text()).toBe(201);
  });

  it('lets a user token with the admin scope update the rules', async () => {
    const res = await as(`${WRITER} ${ADMIN_SCOPE}`, 'PUT', 'PlanDefinition/front-door-triage', rules());
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await json(res)).description).toBe('rewritten');
  });

  it('grants the admin scope at the token endpoint only to a client registered with it', async () => {
    const token = async (clientId: string) => json(await app.token(tokenForm(await clientAssertion(clientKey, clientId), `system/PlanDefinition.u ${ADMIN_SCOPE}`)));
    const admin = await token('rules-admin');
    expect(admin.scope).toBe(`system/PlanDefinition.u ${ADMIN_SCOPE}`);
    const integration = await token('integration');
    expect(integration.scope).toBe('system/PlanDefinition.u');
    await expectForbidden(await app.as(integration.access_token, 'PUT', 'PlanDefinition/front-door-triage', rules()), 'PlanDefinition.url');
    const res = await app.as(admin.access_token, 'PUT', 'PlanDefinition/front-door-triage', { ...rules(), description: 'by the rules admin' });
    expect(res.status, await res.clone().text()).toBe(200);
  });
});

describe('with authentication off', () => {
  it('the development principal may change the rules, and seeding still writes them', async () => {
    const dev = await startTestApp();
    try {
      expect((await seedPathwayData(dev.store)).written).toContain('PlanDefinition/front-door-triage');
      const res = await dev.fhir('PUT', 'PlanDefinition/front-door-triage', rules());
      expect(res.status, await res.clone().text()).toBe(200);
    } finally {
      await dev.close();
    }
  });
});

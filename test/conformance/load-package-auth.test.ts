import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packTgz } from '../../scripts/profiles/npm-package.js';
import { ADMIN_SCOPE } from '../../src/security/admin.js';
import { startAuthApp, testKey, userToken, type AuthTestApp, type TestKey } from '../security/support.js';

/**
 * Issue 15: with authentication on, loading a FHIR package (which changes what every request is
 * validated against) needs the stepwise/admin scope besides the update scopes of what it writes.
 */
let key: TestKey;
let app: AuthTestApp;
beforeAll(async () => {
  key = await testKey('RS384');
  app = await startAuthApp({ idpKeys: [key], serverKey: await testKey('ES384') });
});
afterAll(() => app.close());

const WRITES = 'user/StructureDefinition.cru user/ValueSet.cru user/CodeSystem.cru user/ImplementationGuide.cru';
const pkg = packTgz([
  { path: 'package/package.json', content: Buffer.from(JSON.stringify({ name: 'example.auth', version: '1.0.0', dependencies: {} })) },
  { path: 'package/CodeSystem-auth.json', content: Buffer.from(JSON.stringify({ resourceType: 'CodeSystem', id: 'auth', url: 'http://example.org/fhir/CodeSystem/auth', status: 'active', content: 'complete', concept: [{ code: 'a' }] })) },
]);

async function load(scope: string) {
  const token = await userToken(key, scope, { teams: ['*'] });
  const res = await app.app.request('http://stepwise.test/fhir/$load-package', { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/gzip' }, body: pkg });
  return { status: res.status, oo: (await res.json()) as OperationOutcome };
}

describe('$load-package with authentication on', () => {
  it('is 403 without the admin scope, even with every update scope, and stores nothing', async () => {
    const { status, oo } = await load(WRITES);
    expect(status).toBe(403);
    expect(oo.issue[0].diagnostics).toContain(ADMIN_SCOPE);
    expect(await app.store.readOrUndefined('CodeSystem', 'auth')).toBeUndefined();
  });

  it('is 403 with the admin scope but without the scopes to write what a package holds', async () => {
    expect((await load(`user/CodeSystem.cru ${ADMIN_SCOPE}`)).status).toBe(403);
  });

  it('loads with the admin scope and the update scopes', async () => {
    const { status, oo } = await load(`${WRITES} ${ADMIN_SCOPE}`);
    expect(status, JSON.stringify(oo)).toBe(200);
    expect((await app.store.read('CodeSystem', 'auth')).resourceType).toBe('CodeSystem');
  });
});

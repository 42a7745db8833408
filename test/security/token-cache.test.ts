import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthApp, testKey, userToken, type AuthTestApp, type TestKey } from './support.js';

/** A verified token is not verified again until it expires; one that has expired is refused, cached or not. */
describe('verified bearer tokens are remembered until they expire', () => {
  let key: TestKey;
  let app: AuthTestApp;
  beforeAll(async () => {
    key = await testKey('ES384');
    app = await startAuthApp({ idpKeys: [key], serverKey: await testKey('ES384') });
  });
  afterAll(() => app.close());

  it('answers a token it verified before without verifying it again, until the token expires', async () => {
    const token = await userToken(key, 'user/Patient.rs', { teams: ['*'] }, 2);
    expect((await app.as(token, 'GET', 'Patient')).status).toBe(200);
    // the identity provider's keys become unreachable: only a remembered verification can answer
    const verifier = app.security.verifier as unknown as { providers: { keys: unknown }[] };
    const keys = verifier.providers.map((p) => p.keys);
    verifier.providers.forEach((p) => (p.keys = async () => Promise.reject(new Error('no keys'))));
    try {
      expect((await app.as(token, 'GET', 'Patient')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2_100));
      // expired: verified afresh, so the unreachable keys now show (503, keys unavailable)
      expect((await app.as(token, 'GET', 'Patient')).status).toBe(503);
    } finally {
      verifier.providers.forEach((p, i) => (p.keys = keys[i]));
    }
  });

  it('never remembers a token that failed', async () => {
    const impostor = await testKey('ES384', key.kid);
    const forged = await userToken(impostor, 'user/Patient.rs', { teams: ['*'] });
    expect((await app.as(forged, 'GET', 'Patient')).status).toBe(401);
    expect((await app.as(forged, 'GET', 'Patient')).status).toBe(401);
  });
});

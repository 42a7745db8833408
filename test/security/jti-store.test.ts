import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JtiStore } from '../../src/security/jti-store.js';
import { pgliteTestDatabase, type TestDatabase } from '../support/databases.js';

describe('spent assertion jtis (auth_jti, migration 009)', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await pgliteTestDatabase();
  });
  afterAll(() => t.dispose());

  it('takes a jti once per client, and forgets those past their expiry a minute on', async () => {
    const store = new JtiStore(() => t.db);
    const now = new Date('2026-03-02T09:00:00Z');
    const later = (ms: number) => new Date(now.getTime() + ms);
    expect(await store.claim('gp', 'j1', later(300_000), now)).toBe(true);
    expect(await store.claim('gp', 'j1', later(300_000), now)).toBe(false);
    // jtis are the client's own: another client may use the same text
    expect(await store.claim('lab', 'j1', later(300_000), now)).toBe(true);
    expect(await store.claim('gp', 'j2', later(1000), now)).toBe(true);
    // ten minutes on, j1 and j2 have expired and go before the next claim is written
    expect(await store.claim('gp', 'j3', later(900_000), later(600_000))).toBe(true);
    const left = await t.db.query<{ client_id: string; jti: string }>('SELECT client_id, jti FROM auth_jti ORDER BY client_id, jti');
    expect(left).toEqual([{ client_id: 'gp', jti: 'j3' }]);
  });
});

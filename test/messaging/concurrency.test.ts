import type { MessageHeader } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageProcessor } from '../../src/messaging/index.js';
import { STEPWISE_EVENTS } from '../../src/messaging/index.js';
import { postgresTestDatabase, type TestDatabase } from '../support/databases.js';
import { barsHeaders, FRONT_DOOR_DOS, processor, REFERRAL_CONTEXT, referralMessage } from './support.js';

/** Duplicates arriving at the same moment, on PostgreSQL with a pool of connections. */
describe('concurrent duplicates on PostgreSQL', () => {
  let t: TestDatabase;
  let p: MessageProcessor;
  beforeAll(async () => {
    t = await postgresTestDatabase(16);
    p = processor(t.db);
  });
  afterAll(() => t.dispose());

  const count = async (sql: string, params: unknown[] = []) => Number((await t.db.query<{ n: string }>(sql, params))[0].n);
  const send = (body: unknown, headers = barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT)) => p.process({ body, headers, async: false, baseUrl: 'http://stepwise.test/fhir' });

  it('two identical BaRS messages at once: exactly one processed, the other 409', async () => {
    const m = referralMessage({ nhsNumber: '9434765919' });
    const h = barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT);
    const results = await Promise.all([send(structuredClone(m), h), send(structuredClone(m), h)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await count("SELECT count(*)::text AS n FROM message_log WHERE bundle_id = $1 AND disposition = 'processed'", [m.id])).toBe(1);
    expect(await count("SELECT count(*)::text AS n FROM message_log WHERE bundle_id = $1 AND disposition = 'duplicate'", [m.id])).toBe(1);
    expect(await count("SELECT count(*)::text AS n FROM sp_token WHERE type = 'Patient' AND param = 'identifier' AND code = '9434765919'")).toBe(1);
  });

  it('one BaRS message sent twice at once under two X-Request-IDs: one processed, the other 400 on Bundle.id', async () => {
    const m = referralMessage({ nhsNumber: '9434765846' });
    const results = await Promise.all([send(structuredClone(m)), send(structuredClone(m))]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    const rejected = results.find((r) => r.status === 400)!.body as { issue: { code: string; expression: string[] }[] };
    expect(rejected.issue[0]).toMatchObject({ code: 'invariant', expression: ['Bundle.id'] });
    expect(await count("SELECT count(*)::text AS n FROM message_log WHERE bundle_id = $1 AND disposition = 'processed'", [m.id])).toBe(1);
  });

  it('eight copies of a FHIR message at once: one processed, every copy answered with the same response', async () => {
    const m = referralMessage({ nhsNumber: '9434765870' });
    (m.entry![0].resource as MessageHeader).eventCoding = { system: STEPWISE_EVENTS, code: 'referral-request' };
    const srBefore = await count("SELECT count(*)::text AS n FROM resource WHERE type = 'ServiceRequest'");
    const results = await Promise.all(Array.from({ length: 8 }, () => send(structuredClone(m), {})));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (const r of results) expect(r.body).toEqual(results[0].body);
    expect(results.filter((r) => r.disposition === 'processed')).toHaveLength(1);
    expect(await count("SELECT count(*)::text AS n FROM resource WHERE type = 'ServiceRequest'")).toBe(srBefore + 1);
  });

  it('sixteen different referrals for one person at once: one Patient, sixteen ServiceRequests', async () => {
    const srBefore = await count("SELECT count(*)::text AS n FROM resource WHERE type = 'ServiceRequest'");
    const results = await Promise.all(Array.from({ length: 16 }, () => send(referralMessage({ nhsNumber: '9434765838' }))));
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(200));
    expect(await count("SELECT count(*)::text AS n FROM sp_token WHERE type = 'Patient' AND param = 'identifier' AND code = '9434765838'")).toBe(1);
    expect(await count("SELECT count(*)::text AS n FROM resource WHERE type = 'ServiceRequest'")).toBe(srBefore + 16);
  });
});

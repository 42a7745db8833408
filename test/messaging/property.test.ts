import type { Bundle, MessageHeader, Patient, ServiceRequest } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RawMessageHeaders } from '../../src/messaging/headers.js';
import { barsHeaders, entry, FRONT_DOOR_DOS, guid, REFERRAL_CONTEXT, referralMessage, useProcessor } from './support.js';

type Mutation = (m: Bundle, h: RawMessageHeaders) => void;

/** Small changes a sender can get wrong, combined at random. */
const MUTATIONS: Record<string, Mutation> = {
  dropEntry: (m) => void m.entry!.splice(1 + (m.entry!.length % 7), 1),
  noRequestId: (_m, h) => void (h.requestId = undefined),
  badRequestId: (_m, h) => void (h.requestId = 'abc'),
  otherTarget: (_m, h) => void (h.targetIdentifier = Buffer.from('{"system":"https://fhir.nhs.uk/Id/dos-service-id","value":"1"}').toString('base64')),
  draftReferral: (m) => void (entry<ServiceRequest>(m, 'ServiceRequest').resource!.status = 'draft'),
  badNhsNumber: (m) => void (entry<Patient>(m, 'Patient').resource!.identifier![0].value = '1234567890'),
  noContact: (m) => void delete entry<Patient>(m, 'Patient').resource!.contact,
  updateReason: (m) => void (entry<MessageHeader>(m, 'MessageHeader').resource!.reason!.coding![0].code = 'update'),
  noBundleId: (m) => void delete m.id,
  reusedBundleId: (m) => void (m.id = 'fixed-bundle-id'),
  reusedRequestId: (_m, h) => void (h.requestId = '11111111-2222-4333-8444-555555555555'),
  notMessage: (m) => void (m.type = 'batch'),
};

describe('any message gets exactly one logged outcome', () => {
  const fixture = useProcessor();

  const count = async (table: string) => Number((await fixture.t.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`))[0].n);

  it('processed, rejected or duplicate: one log row and one AuditEvent each, and only a processed message changes data', async () => {
    const body = fc.oneof(
      { weight: 4, arbitrary: fc.array(fc.constantFrom(...Object.keys(MUTATIONS)), { maxLength: 3 }).map((names) => ({ names, raw: undefined as unknown })) },
      { weight: 1, arbitrary: fc.jsonValue().map((raw) => ({ names: [] as string[], raw: raw as unknown })) },
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ names, raw }) => {
        const m = referralMessage({ nhsNumber: '9000000009' });
        const h = barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT, { requestId: guid() });
        for (const n of names) MUTATIONS[n](m, h);
        const logBefore = await count('message_log');
        const versionsBefore = await count("resource_version WHERE type <> 'AuditEvent'");
        const auditsBefore = await count("resource WHERE type = 'AuditEvent'");
        const res = await fixture.p.process({ body: raw === undefined ? m : raw, headers: h, async: false, baseUrl: 'http://stepwise.test/fhir' });
        expect(await count('message_log')).toBe(logBefore + 1);
        const last = (await fixture.t.db.query<{ disposition: string; status: number }>('SELECT disposition, status FROM message_log ORDER BY seq DESC LIMIT 1'))[0];
        expect(last.status).toBe(res.status);
        expect(last.disposition).toBe(res.disposition);
        expect(await count("resource WHERE type = 'AuditEvent'")).toBe(auditsBefore + 1);
        const versions = await count("resource_version WHERE type <> 'AuditEvent'");
        if (res.disposition === 'processed') expect(versions).toBeGreaterThanOrEqual(versionsBefore); // an update may change nothing
        else expect(versions).toBe(versionsBefore);
        if (res.status >= 400) expect(res.body.resourceType).toBe('OperationOutcome');
      }),
      { numRuns: 80 },
    );
  }, 60_000);
});

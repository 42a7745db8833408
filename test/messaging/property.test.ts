import type { Bundle, MessageHeader, Organization, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
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
        const versionsBefore = await count("resource_version");
        const auditsBefore = await count('audit_event');
        const res = await fixture.p.process({ body: raw === undefined ? m : raw, headers: h, async: false, baseUrl: 'http://stepwise.test/fhir' });
        expect(await count('message_log')).toBe(logBefore + 1);
        const last = (await fixture.t.db.query<{ disposition: string; status: number }>('SELECT disposition, status FROM message_log ORDER BY seq DESC LIMIT 1'))[0];
        expect(last.status).toBe(res.status);
        expect(last.disposition).toBe(res.disposition);
        expect(await count('audit_event')).toBe(auditsBefore + 1);
        const versions = await count("resource_version");
        if (res.disposition === 'processed') expect(versions).toBeGreaterThanOrEqual(versionsBefore); // an update may change nothing
        else expect(versions).toBe(versionsBefore);
        if (res.status >= 400) expect(res.body.resourceType).toBe('OperationOutcome');
      }),
      { numRuns: 80 },
    );
  }, 60_000);
});

/** What a referral says about the person: any mix of these is accepted ("never refused for what it says"). */
const CONTENT_DEFECTS: Record<string, (m: Bundle, seed: number) => void> = {
  nhsNumberFailingModulus11: (m, seed) => void (entry<Patient>(m, 'Patient').resource!.identifier![0].value = String(1_000_000_000 + (seed % 8_999_999_999)).padStart(10, '0')),
  retiredVerificationSystem: (m) => void (entry<Patient>(m, 'Patient').resource!.identifier![0].extension![0].valueCodeableConcept!.coding![0].system = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus'),
  unverifiedNumber: (m) => void (entry<Patient>(m, 'Patient').resource!.identifier![0].extension![0].valueCodeableConcept!.coding![0].code = '03'),
  noBirthDate: (m) => void delete entry<Patient>(m, 'Patient').resource!.birthDate,
  noName: (m) => void delete entry<Patient>(m, 'Patient').resource!.name,
  noReason: (m) => void delete entry<ServiceRequest>(m, 'ServiceRequest').resource!.reasonCode,
  priorityOutsideValueSet: (m) => void (entry<ServiceRequest>(m, 'ServiceRequest').resource!.priority = 'soonish' as ServiceRequest['priority']),
  intentNotPlan: (m) => void (entry<ServiceRequest>(m, 'ServiceRequest').resource!.intent = 'order'),
  senderIdNotAnId: (m) => void (entry<Patient>(m, 'Patient').resource!.id = '__PATIENT_ID__'),
  odsSystemInWrongCase: (m) => void (entry<Organization>(m, 'Organization').resource!.identifier![0].system = 'https://fhir.nhs.uk/id/ods-organization-code'),
  flagOutsideBarsCategories: (m) =>
    void m.entry!.push({ fullUrl: `urn:uuid:${guid()}`, resource: { resourceType: 'Flag', status: 'active', category: [{ coding: [{ system: 'http://example.org/flags', code: 'x' }] }], code: { text: 'Risk' }, subject: { reference: entry<Patient>(m, 'Patient').fullUrl! } } }),
  unlistedResource: (m) => void m.entry!.push({ fullUrl: `urn:uuid:${guid()}`, resource: { resourceType: 'Device' } }),
};

/** What stops a message being read or routed: any one of these refuses it, and nothing is stored. */
const STRUCTURAL_BREAKS: Record<string, (m: Bundle) => unknown> = {
  notABundle: () => ({ resourceType: 'Patient' }),
  notAMessage: (m) => ({ ...m, type: 'collection' }),
  noMessageHeaderFirst: (m) => ({ ...m, entry: [...m.entry!.slice(1), m.entry![0]] }),
  focusNotInMessage: (m) => ((entry<MessageHeader>(m, 'MessageHeader').resource!.focus = [{ reference: 'urn:uuid:nowhere' }]), m),
  noBundleId: (m) => ({ ...m, id: undefined }),
  twoPatients: (m) => ({ ...m, entry: [...m.entry!, { fullUrl: `urn:uuid:${guid()}`, resource: { ...entry<Patient>(m, 'Patient').resource! } }] }),
  noConsent: (m) => ({ ...m, entry: m.entry!.filter((e) => e.resource?.resourceType !== 'Consent') }),
  entryWithoutResource: (m) => ({ ...m, entry: [...m.entry!, { fullUrl: `urn:uuid:${guid()}` }] }),
};

describe('the receiver policy, as properties', () => {
  const fixture = useProcessor();
  const storedVersions = async () => Number((await fixture.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM resource_version"))[0].n);
  const send = (body: unknown) => fixture.p.process({ body, headers: barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT), async: false, baseUrl: 'http://stepwise.test/fhir' });

  it('a referral with any content defects is accepted with exactly one triage Task', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.constantFrom(...Object.keys(CONTENT_DEFECTS)), { minLength: 1, maxLength: 5 }), fc.nat(), async (names, seed) => {
        const m = referralMessage({ nhsNumber: '9000000009' });
        for (const n of names) CONTENT_DEFECTS[n](m, seed);
        const res = await send(m);
        expect(res.status, `${names.join(', ')}: ${JSON.stringify(res.body)}`).toBe(200);
        const answer = res.body as Bundle;
        const referral = (answer.entry![0].resource as MessageHeader).focus!.find((f) => f.reference!.startsWith('ServiceRequest/'))!.reference!;
        const tasks = answer.entry!.map((e) => e.resource!).filter((r): r is Task => r.resourceType === 'Task' && r.focus?.reference === referral && r.code?.coding?.[0]?.code === 'triage');
        expect(tasks).toHaveLength(1);
        const stored = await fixture.t.db.query<{ n: string }>(
          "SELECT count(*)::text AS n FROM resource r JOIN sp_reference x ON x.rid = r.rid AND x.param = 'focus' JOIN sp_token c ON c.rid = r.rid AND c.param = 'code' AND c.code = 'triage' WHERE r.type = 'Task' AND NOT r.deleted AND x.target_id = $1",
          [referral.split('/')[1]],
        );
        expect(Number(stored[0].n)).toBe(1);
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('a structurally broken message is refused and stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(STRUCTURAL_BREAKS)), fc.uniqueArray(fc.constantFrom(...Object.keys(CONTENT_DEFECTS)), { maxLength: 3 }), async (broken, defects) => {
        const m = referralMessage({ nhsNumber: '9000000009' });
        for (const n of defects) CONTENT_DEFECTS[n](m, 7);
        const before = await storedVersions();
        const res = await send(STRUCTURAL_BREAKS[broken](m));
        expect(res.status, broken).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(await storedVersions()).toBe(before);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

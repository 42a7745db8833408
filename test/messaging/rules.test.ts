import type { Bundle, CarePlan, Consent, Encounter, Flag, MessageHeader, OperationOutcome, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { encodeJsonHeader, type RawMessageHeaders } from '../../src/messaging/headers.js';
import { barsHeaders, entry, FRONT_DOOR_DOS, REFERRAL_CONTEXT, referralMessage, useProcessor } from './support.js';

interface Case {
  name: string;
  message?: (m: Bundle) => unknown;
  headers?: (h: RawMessageHeaders) => RawMessageHeaders;
  status: number;
  code: string;
  expression: string;
  bars?: string;
  says?: string;
}

const header = (m: Bundle) => entry<MessageHeader>(m, 'MessageHeader').resource!;
const sr = (m: Bundle) => entry<ServiceRequest>(m, 'ServiceRequest').resource!;
const patient = (m: Bundle) => entry<Patient>(m, 'Patient').resource!;
const without = (m: Bundle, type: string) => ({ ...m, entry: m.entry!.filter((e) => e.resource?.resourceType !== type) });
const flag = (category: { system: string; code: string }): Flag => ({ resourceType: 'Flag', status: 'active', category: [{ coding: [category] }], code: { text: 'Risk to self' }, subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000005' } });

const CASES: Case[] = [
  // FHIR messaging envelope
  { name: 'a body that is not a Bundle', message: () => ({ resourceType: 'Patient' }), status: 400, code: 'invalid', expression: 'Bundle' },
  { name: 'a Bundle that is not a message', message: (m) => ({ ...m, type: 'collection' }), status: 400, code: 'value', expression: 'Bundle.type', bars: 'REC_BAD_REQUEST' },
  { name: 'a message without Bundle.id', message: (m) => ({ ...m, id: undefined }), status: 400, code: 'required', expression: 'Bundle.id' },
  { name: 'a first entry that is not a MessageHeader', message: (m) => ({ ...m, entry: [m.entry![1], m.entry![0], ...m.entry!.slice(2)] }), status: 400, code: 'required', expression: 'Bundle.entry[0]' },
  { name: 'a MessageHeader without an event', message: (m) => (delete header(m).eventCoding, m), status: 400, code: 'required', expression: 'Bundle.entry[0].resource.eventCoding' },
  { name: 'a focus that is not in the message', message: (m) => ((header(m).focus = [{ reference: 'urn:uuid:nowhere' }]), m), status: 400, code: 'invalid', expression: 'Bundle.entry[0].resource.focus[0]', bars: 'REC_BAD_REQUEST' },
  { name: 'an event outside the BaRS code system', message: (m) => ((header(m).eventCoding!.code = 'referral-please'), m), status: 400, code: 'invariant', expression: 'Bundle.entry[0].resource.eventCoding.code', bars: 'REC_BAD_REQUEST' },
  { name: 'a BaRS message without its BaRS version', message: (m) => ((m.meta = { ...m.meta, versionId: undefined }), m), status: 400, code: 'invariant', expression: 'Bundle.meta.versionId', bars: 'REC_BAD_REQUEST' },
  { name: 'a BaRS message without a reason', message: (m) => (delete header(m).reason, m), status: 400, code: 'invariant', expression: 'Bundle.entry[0].resource.reason', bars: 'REC_BAD_REQUEST' },
  { name: 'a reason outside the BaRS code system', message: (m) => ((header(m).reason!.coding![0].code = 'resend'), m), headers: (h) => ({ ...h, useContext: 'a5t1|referral|servicerequest-request|resend' }), status: 400, code: 'invariant', expression: 'Bundle.entry[0].resource.reason.coding[0].code' },
  // headers
  { name: 'no X-Request-ID', headers: (h) => ({ ...h, requestId: undefined }), status: 400, code: 'required', expression: 'http.X-Request-ID', bars: 'REC_BAD_REQUEST' },
  { name: 'an X-Request-ID that is not a GUID', headers: (h) => ({ ...h, requestId: 'req-42' }), status: 400, code: 'value', expression: 'http.X-Request-ID', says: 'not a GUID' },
  { name: 'an X-Correlation-ID that is not a GUID', headers: (h) => ({ ...h, correlationId: '12' }), status: 400, code: 'value', expression: 'http.X-Correlation-ID' },
  { name: 'no NHSD-Target-Identifier', headers: (h) => ({ ...h, targetIdentifier: undefined }), status: 400, code: 'required', expression: 'http.NHSD-Target-Identifier' },
  { name: 'an NHSD-Target-Identifier that is not Base64', headers: (h) => ({ ...h, targetIdentifier: '{"value":"1"}' }), status: 400, code: 'value', expression: 'http.NHSD-Target-Identifier', says: 'not Base64' },
  { name: 'an NHSD-Target-Identifier that is not JSON', headers: (h) => ({ ...h, targetIdentifier: Buffer.from('dos 2000072001').toString('base64') }), status: 400, code: 'value', expression: 'http.NHSD-Target-Identifier', says: 'does not decode to JSON' },
  { name: 'an NHSD-Target-Identifier without a value', headers: (h) => ({ ...h, targetIdentifier: encodeJsonHeader({ system: 'https://fhir.nhs.uk/Id/dos-service-id' }) }), status: 400, code: 'value', expression: 'http.NHSD-Target-Identifier' },
  { name: 'no NHSD-Requesting-Software', headers: (h) => ({ ...h, requestingSoftware: undefined }), status: 400, code: 'required', expression: 'http.NHSD-Requesting-Software' },
  { name: 'no NHSD-End-User-Organisation', headers: (h) => ({ ...h, endUserOrganisation: undefined }), status: 400, code: 'required', expression: 'http.NHSD-End-User-Organisation' },
  { name: 'an NHSD-End-User-Organisation without an identifier', headers: (h) => ({ ...h, endUserOrganisation: encodeJsonHeader({ resourceType: 'Organization', name: 'X' }) }), status: 400, code: 'value', expression: 'http.NHSD-End-User-Organisation' },
  { name: 'a malformed NHSD-Requesting-Practitioner', headers: (h) => ({ ...h, requestingPractitioner: 'not base64!' }), status: 400, code: 'value', expression: 'http.NHSD-Requesting-Practitioner' },
  { name: 'no use-context', headers: (h) => ({ ...h, useContext: undefined }), status: 400, code: 'required', expression: 'http.use-context' },
  { name: 'a use-context that is not four parts', headers: (h) => ({ ...h, useContext: 'a5t1|referral' }), status: 400, code: 'value', expression: 'http.use-context' },
  { name: 'a use-context naming another event', headers: (h) => ({ ...h, useContext: 'a5t1|referral|booking-request|new' }), status: 400, code: 'invariant', expression: 'http.use-context' },
  // target service and what it accepts
  { name: 'a target service not hosted here', headers: (h) => ({ ...h, targetIdentifier: encodeJsonHeader({ system: 'https://fhir.nhs.uk/Id/dos-service-id', value: '999' }) }), status: 404, code: 'not-found', expression: 'http.NHSD-Target-Identifier', bars: 'REC_NOT_FOUND' },
  { name: 'a target that is not a DoS id', headers: (h) => ({ ...h, targetIdentifier: encodeJsonHeader({ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RV5' }) }), status: 400, code: 'value', expression: 'http.NHSD-Target-Identifier' },
  { name: 'a destination other than the target', message: (m) => ((header(m).destination![0].endpoint = 'https://fhir.nhs.uk/Id/dos-service-id|111111111'), m), status: 400, code: 'invariant', expression: 'Bundle.entry[0].resource.destination' },
  { name: 'a use case the service does not take', message: (m) => ((sr(m).category![0].coding![1].code = 'a1t1'), m), status: 400, code: 'not-supported', expression: 'Bundle.entry[1].resource.category', bars: 'REC_BAD_REQUEST' },
  { name: 'a use case BaRS does not define', message: (m) => ((sr(m).category![0].coding![1].code = 'xxxxxxxx'), m), status: 400, code: 'invariant', expression: 'Bundle.entry[1].resource.category', says: 'is not a use case' },
  { name: 'no use case', message: (m) => ((sr(m).category![0].coding = [sr(m).category![0].coding![0]]), m), status: 400, code: 'invariant', expression: 'Bundle.entry[1].resource.category', says: 'needs the use case' },
  { name: 'a MessageDefinition the service does not accept', message: (m) => ((header(m).definition = 'https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request'), m), status: 400, code: 'not-supported', expression: 'Bundle.entry[0].resource.definition', bars: 'REC_BAD_REQUEST' },
  // MessageDefinition focus and cardinalities
  { name: 'a referral without a Consent', message: (m) => without(m, 'Consent'), status: 400, code: 'invariant', expression: 'Bundle.entry', says: 'requires at least 1 Consent' },
  { name: 'a referral without a CarePlan', message: (m) => without(m, 'CarePlan'), status: 400, code: 'invariant', expression: 'Bundle.entry', says: 'requires at least 1 CarePlan' },
  { name: 'a referral with two Patients', message: (m) => ({ ...m, entry: [...m.entry!, { fullUrl: 'urn:uuid:00000000-0000-4000-8000-0000000000aa', resource: { ...patient(m) } }] }), status: 400, code: 'invariant', expression: 'Bundle.entry', says: 'at most 1 Patient' },
  { name: 'a MessageHeader whose focus is not the ServiceRequest', message: (m) => ((header(m).focus = [{ reference: m.entry![4].fullUrl }]), m), status: 400, code: 'invariant', expression: 'Bundle.entry[0].resource.focus' },
  // request type rules
  { name: 'a new referral whose ServiceRequest is not active', message: (m) => ((sr(m).status = 'draft'), m), status: 400, code: 'invariant', expression: 'Bundle.entry[1].resource.status' },
  { name: 'a referral whose CarePlan is not completed', message: (m) => ((entry<CarePlan>(m, 'CarePlan').resource!.status = 'active'), m), status: 400, code: 'invariant', expression: 'Bundle.entry[3].resource.status', says: "CarePlan.status 'completed'" },
  { name: 'a referral whose Encounter is in progress', message: (m) => ((entry<Encounter>(m, 'Encounter').resource!.status = 'in-progress'), m), status: 400, code: 'invariant', expression: 'Bundle.entry[2].resource.status', says: "'triaged' or 'finished'" },
  { name: 'a ServiceRequest without a BaRS category', message: (m) => ((sr(m).category = [{ coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/usecases-categories-bars', code: 'a5t1' }] }]), m), status: 400, code: 'invariant', expression: 'Bundle.entry[1].resource.category', says: "'referral' or 'validation'" },
  { name: 'a cancellation whose category is not a BaRS request type', message: (m) => ((header(m).reason!.coding![0].code = 'delete'), (sr(m).status = 'revoked'), (sr(m).category![0].coding![0].code = 'nonsense'), m), headers: (h) => ({ ...h, useContext: 'a5t1|referral|servicerequest-request|delete' }), status: 400, code: 'invariant', expression: 'Bundle.entry[1].resource.category' },
  { name: 'the cancellation MessageDefinition with a ServiceRequest not revoked', message: (m) => ((header(m).definition = 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled'), (header(m).reason!.coding![0].code = 'update'), m), headers: (h) => ({ ...h, useContext: 'a5t1|referral|servicerequest-request|update' }), status: 400, code: 'invariant', expression: 'Bundle.entry[1].resource.status', says: 'revoked' },
  // patient
  { name: 'a Patient without a rank-1 contact', message: (m) => ((patient(m).contact![0].extension![0].valuePositiveInt = 2), m), status: 400, code: 'invariant', expression: 'Bundle.entry[4].resource.contact', says: 'found 0' },
  { name: 'a Patient with two rank-1 contacts', message: (m) => ((patient(m).contact = [patient(m).contact![0], patient(m).contact![0]]), m), status: 400, code: 'invariant', expression: 'Bundle.entry[4].resource.contact', says: 'found 2' },
  { name: 'a rank-1 contact without a phone', message: (m) => ((patient(m).contact![0].telecom = [{ system: 'email', value: 'r@example.org' }]), m), status: 400, code: 'invariant', expression: 'Bundle.entry[4].resource.contact[0].telecom' },
  // consent
  { name: 'a Consent that is not for direct care', message: (m) => ((entry<Consent>(m, 'Consent').resource!.category![0].coding![0].code = 'RES'), m), status: 400, code: 'invariant', expression: 'Bundle.entry', says: 'direct care' },
];

describe('$process-message rules', () => {
  const fixture = useProcessor();

  it('the valid message the cases start from is accepted', async () => {
    const res = await fixture.p.process({ body: referralMessage(), headers: barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT), async: false, baseUrl: 'http://stepwise.test/fhir' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.status} ${c.code} at ${c.expression}, nothing stored, rejection logged and audited`, async () => {
      const before = await fixture.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM resource_version");
      const audits = await fixture.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM audit_event");
      const logged = await fixture.t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM message_log');
      const base = referralMessage();
      const body = c.message ? c.message(base) : base;
      const headers = (c.headers ?? ((h) => h))(barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT));
      const res = await fixture.p.process({ body, headers, async: false, baseUrl: 'http://stepwise.test/fhir' });
      expect(res.status, JSON.stringify(res.body)).toBe(c.status);
      const oo = res.body as OperationOutcome;
      expect(oo.resourceType).toBe('OperationOutcome');
      const issue = oo.issue.find((i) => i.expression?.[0] === c.expression && i.code === c.code);
      expect(issue, JSON.stringify(oo.issue)).toBeDefined();
      if (c.says) expect(issue!.diagnostics).toContain(c.says);
      if (c.bars) expect(issue!.details?.coding?.[0]).toMatchObject({ system: 'https://fhir.nhs.uk/CodeSystem/http-error-codes', code: c.bars });
      if (headers.requestId) expect(res.headers['X-Request-ID']).toBe(headers.requestId);
      // nothing is left behind but the log row and the AuditEvent of the rejection
      expect(await fixture.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM resource_version")).toEqual(before);
      const audit = await fixture.t.db.query<{ content: string }>("SELECT content FROM audit_event ORDER BY seq DESC LIMIT 1");
      expect(Number((await fixture.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM audit_event"))[0].n)).toBe(Number(audits[0].n) + 1);
      expect(JSON.parse(audit[0].content)).toMatchObject({ outcome: c.status >= 500 ? '8' : '4', action: 'E', subtype: [{ code: 'operation' }] });
      const rows = await fixture.t.db.query<{ disposition: string; status: number; response: string }>('SELECT disposition, status, response FROM message_log ORDER BY seq DESC LIMIT 1');
      expect(Number((await fixture.t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM message_log'))[0].n)).toBe(Number(logged[0].n) + 1);
      expect(rows[0]).toMatchObject({ disposition: 'rejected', status: c.status });
      expect(JSON.parse(rows[0].response)).toEqual(oo);
    });
  }
});

/** What a referral says about the person never refuses it: each defect comes back as a warning. */
interface Defect {
  name: string;
  message: (m: Bundle) => unknown;
  expression: string;
  says?: string;
  /** A minimum-dataset item the defect leaves missing: named as a gap on the triage Task. */
  gap?: string;
}

const DEFECTS: Defect[] = [
  { name: 'an NHS number failing Modulus 11', message: (m) => ((patient(m).identifier![0].value = '9000000008'), m), expression: 'Bundle.entry[4].resource.identifier[0].value', says: 'Modulus 11', gap: 'nhs-number' },
  { name: 'the retired verification status code system', message: (m) => ((patient(m).identifier![0].extension![0].valueCodeableConcept!.coding![0].system = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus'), m), expression: 'Bundle.entry[4].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system', says: 'retired' },
  { name: 'an unverified NHS number', message: (m) => ((patient(m).identifier![0].extension![0].valueCodeableConcept!.coding![0].code = '02'), m), expression: 'Bundle.entry[4].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].code', says: "status '02'" },
  { name: 'a Flag category outside flag-categories-bars', message: (m) => ({ ...m, entry: [...m.entry!, { fullUrl: 'urn:uuid:00000000-0000-4000-8000-0000000000ac', resource: flag({ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'behavioral' }) }] }), expression: 'Bundle.entry[11].resource.category[0].coding[0]', says: 'flag-categories-bars' },
  { name: 'a Flag category code not in flag-categories-bars', message: (m) => ({ ...m, entry: [...m.entry!, { fullUrl: 'urn:uuid:00000000-0000-4000-8000-0000000000ad', resource: flag({ system: 'https://fhir.nhs.uk/CodeSystem/flag-categories-bars', code: 'XX' }) }] }), expression: 'Bundle.entry[11].resource.category[0].coding[0].code' },
  { name: 'a ServiceRequest intent the BaRS profile does not fix', message: (m) => ((sr(m).intent = 'order'), m), expression: 'Bundle.entry[1].resource.intent', says: 'plan' },
  { name: 'a priority outside its required value set', message: (m) => ((sr(m).priority = 'whenever' as ServiceRequest['priority']), m), expression: 'Bundle.entry[1].resource.priority' },
  { name: 'a resource the MessageDefinition does not list', message: (m) => ({ ...m, entry: [...m.entry!, { fullUrl: 'urn:uuid:00000000-0000-4000-8000-0000000000ab', resource: { resourceType: 'Device' } }] }), expression: 'Bundle.entry[11].resource', says: 'does not list Device' },
  { name: "a sender's resource id that is not a FHIR id", message: (m) => ((patient(m).id = '__PATIENT_ID__'), m), expression: 'Bundle.entry[4].resource.id' },
];

describe('$process-message: content defects are accepted with warnings', () => {
  const fixture = useProcessor();

  for (const d of DEFECTS) {
    it(`${d.name}: 200, a warning at ${d.expression}, one triage Task${d.gap ? `, the ${d.gap} gap named` : ''}`, async () => {
      const body = d.message(referralMessage());
      const res = await fixture.p.process({ body, headers: barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT), async: false, baseUrl: 'http://stepwise.test/fhir' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const bundle = res.body as Bundle;
      const outcome = bundle.entry!.find((e) => e.resource?.resourceType === 'OperationOutcome')!.resource as OperationOutcome;
      const warning = outcome.issue.find((i) => i.severity === 'warning' && i.expression?.[0] === d.expression);
      expect(warning, JSON.stringify(outcome.issue)).toBeDefined();
      if (d.says) expect(warning!.diagnostics).toContain(d.says);
      const referral = bundle.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource!;
      const rows = await fixture.t.db.query<{ content: string }>(
        "SELECT r.content FROM resource r JOIN sp_reference x ON x.rid = r.rid AND x.param = 'focus' WHERE r.type = 'Task' AND NOT r.deleted AND x.target_id = $1",
        [referral.id],
      );
      const triage = rows.map((r) => JSON.parse(r.content) as Task).filter((t) => t.code?.coding?.some((c) => c.code === 'triage'));
      expect(triage).toHaveLength(1);
      const gaps = (triage[0].input ?? []).flatMap((i) => i.valueCodeableConcept?.coding ?? []).map((c) => c.code);
      if (d.gap) expect(gaps).toContain(d.gap);
    });
  }

  it('an NHS number the sender did not verify is kept but never used to match a person; a verified one is', async () => {
    const unverified = () => {
      const m = referralMessage({ nhsNumber: '9434765870' });
      patient(m).identifier![0].extension![0].valueCodeableConcept!.coding![0].code = '02';
      return m;
    };
    const send = async (m: Bundle) => (await fixture.p.process({ body: m, headers: barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT), async: false, baseUrl: 'http://stepwise.test/fhir' })).body as Bundle;
    const patientOf = (x: Bundle) => x.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;
    const a = patientOf(await send(unverified()));
    const b = patientOf(await send(unverified()));
    expect(a.identifier![0].value).toBe('9434765870');
    expect(a.id).not.toBe(b.id);
    const c = patientOf(await send(referralMessage({ nhsNumber: '9434765870' })));
    const d = patientOf(await send(referralMessage({ nhsNumber: '9434765870' })));
    expect(c.id).toBe(d.id);
  });

  it('an NHS number failing Modulus 11 is never used to match a person', async () => {
    const first = referralMessage({ nhsNumber: '9000000008' });
    const second = referralMessage({ nhsNumber: '9000000008' });
    const a = (await fixture.p.process({ body: first, headers: barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT), async: false, baseUrl: 'http://stepwise.test/fhir' })).body as Bundle;
    const b = (await fixture.p.process({ body: second, headers: barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT), async: false, baseUrl: 'http://stepwise.test/fhir' })).body as Bundle;
    const patientOf = (x: Bundle) => x.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource!.id;
    expect(patientOf(a)).toBeDefined();
    expect(patientOf(a)).not.toBe(patientOf(b));
  });
});

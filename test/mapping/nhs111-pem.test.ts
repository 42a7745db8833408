import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Bundle, MessageHeader, Organization, Patient, Practitioner, PractitionerRole, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirError } from '../../src/errors.js';
import { isValidNhsNumber } from '../../src/fhir/nhs-number.js';
import { formatOf } from '../../src/mapping/formats.js';
import '../../src/mapping/registered-formats.js';
import { readHl7Timestamp } from '../../src/mapping/nhs111/hl7-time.js';
import { readNhs111Pem } from '../../src/mapping/nhs111/format.js';
import type { MessageProcessor } from '../../src/messaging/index.js';
import { pgliteTestDatabase, type TestDatabase } from '../support/databases.js';
import { fixturePath } from '../support/fixtures.js';
import { processor } from '../messaging/support.js';
import { STEPWISE_CANONICAL_BASE } from '../../src/fhir/canonical.js';

const CRISIS = readFileSync(fixturePath('nhs111', 'crisis-overdose-pem.xml'), 'utf8');
/** The published sample as it is, placeholders and all (test/fixtures/SOURCES.md). */
const SAMPLE = readFileSync(fixturePath('nhs', 'crisis', 'nhs111-pem-safeguarding-request.xml'), 'utf8');
const DOC = '/Envelope/Body/DistributionEnvelope/payloads/payload/ClinicalDocument';

function only<T>(bundle: Bundle, type: string): T {
  const found = bundle.entry?.filter((e) => e.resource?.resourceType === type) ?? [];
  expect(found, type).toHaveLength(1);
  return found[0].resource as T;
}

function resolve<T>(bundle: Bundle, reference: string | undefined): T {
  const entry = bundle.entry?.find((e) => e.fullUrl === reference);
  expect(entry, reference).toBeDefined();
  return entry!.resource as T;
}

function expressions(issues: { expression?: string[] }[]): string[] {
  return issues.flatMap((i) => i.expression ?? []);
}

describe('nhs111-pem: an NHS 111 Post Event Message becomes a crisis referral message', () => {
  it('is registered under its name, read only', () => {
    const format = formatOf('nhs111-pem');
    expect(format?.read).toBeTypeOf('function');
    expect(format?.write).toBeUndefined();
  });

  it('maps the crisis call to a referral-request message whose focus is the referral', () => {
    const { result, issues } = readNhs111Pem(CRISIS);
    expect(issues).toEqual([]);
    expect(result.type).toBe('message');
    expect(result.id).toBe('6f1b3d5a-7c9e-4b2d-a4f6-8e0c2a4b6d8f');
    const header = result.entry![0].resource as MessageHeader;
    expect(header.resourceType).toBe('MessageHeader');
    expect(header.eventCoding).toEqual({ system: `${STEPWISE_CANONICAL_BASE}/CodeSystem/message-event`, code: 'referral-request' });
    expect(header.source.endpoint).toBe('urn:nhs-uk:addressing:ods:5L399:445510770');
    const sr = only<ServiceRequest>(result, 'ServiceRequest');
    expect(resolve<ServiceRequest>(result, header.focus?.[0].reference)).toBe(sr);
    expect(sr).toMatchObject({ status: 'active', intent: 'order', priority: 'stat', authoredOn: '2026-03-02T08:30:00+00:00' });
    expect(sr.reasonCode?.[0].text).toMatch(/overdose of paracetamol/);
    expect(sr.reasonCode?.[0].coding?.[0]).toMatchObject({ system: 'https://fhir.nhs.uk/CodeSystem/pathways-dx-codes', code: 'Dx335' });
    expect(sr.note?.map((n) => n.text)).toContain('Disposition Details: Referred to the crisis resolution and home treatment team.');

    const patient = resolve<Patient>(result, sr.subject?.reference);
    expect(patient.identifier).toEqual([{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }]);
    expect(patient).toMatchObject({ gender: 'female', birthDate: '1992-03-14', name: [{ given: ['Sam'], family: 'Taylor' }] });
    expect(patient.address?.[0]).toMatchObject({ line: ['17, County Avenue', 'Woodtown'], city: 'Medway', postalCode: 'ME5 8FS' });
    expect(patient.telecom).toEqual([
      { system: 'phone', value: '01634775667', use: 'home' },
      { system: 'phone', value: '07700900123', use: 'mobile' },
    ]);
    const gp = resolve<Organization>(result, patient.generalPractitioner?.[0].reference);
    expect(gp.identifier).toEqual([{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83627' }]);

    const role = resolve<PractitionerRole>(result, sr.requester?.reference);
    expect(role.telecom).toEqual([{ system: 'phone', value: '08001111111' }]);
    expect(role.code?.[0].text).toBe('Nurse Triage Practitioner');
    expect(resolve<Practitioner>(result, role.practitioner?.reference).name).toEqual([{ given: ['Mary'], family: 'Jones' }]);
    const referrer = resolve<Organization>(result, role.organization?.reference);
    expect(referrer.identifier?.[0].value).toBe('5L399');
    expect(header.sender?.reference).toBe(role.organization?.reference);
    const encounter = resolve<{ period?: unknown; hospitalization?: { dischargeDisposition?: { coding?: { code?: string }[] } } }>(result, sr.encounter?.reference);
    expect(encounter.period).toEqual({ start: '2026-03-02T08:05:00+00:00', end: '2026-03-02T08:28:00+00:00' });
    expect(encounter.hospitalization?.dischargeDisposition?.coding?.[0].code).toBe('Dx335');
    expect(sr.supportingInfo?.map((r) => resolve<{ resourceType: string }>(result, r.reference).resourceType).sort()).toEqual(['Consent', 'RelatedPerson']);
  });

  it('maps the published sample as it is and names each of its defects at its place in the XML', () => {
    const { result, issues: all } = readNhs111Pem(SAMPLE);
    // what is not mapped is named too, as information
    expect(expressions(all.filter((i) => i.severity === 'information')).sort()).toEqual(
      [
        `${DOC}/component/structuredBody/component/section/entry[1]/observationMedia`,
        `${DOC}/component/structuredBody/component/section/entry[5]/encounter`,
        `${DOC}/informationRecipient[1]`,
        `${DOC}/informationRecipient[2]`,
      ].sort(),
    );
    const issues = all.filter((i) => i.severity !== 'information');
    expect(issues.every((i) => i.severity === 'warning')).toBe(true);
    expect(expressions(issues).sort()).toEqual(
      [
        `${DOC}/componentOf/encompassingEncounter/effectiveTime/high/@value`,
        `${DOC}/componentOf/encompassingEncounter/effectiveTime/low/@value`,
        `${DOC}/recordTarget/patientRole/id[2]/@extension`,
      ].sort(),
    );
    expect(issues.find((i) => i.expression?.[0].endsWith('id[2]/@extension'))?.diagnostics).toMatch(/NHS number '@@nhs-number@@'.*10 digits/);
    // still mapped: the number as sent (never used to match), the disposition as the priority
    const sr = only<ServiceRequest>(result, 'ServiceRequest');
    expect(sr.priority).toBe('stat');
    expect(resolve<Patient>(result, sr.subject?.reference).identifier?.[0].value).toBe('@@nhs-number@@');
    expect(resolve<{ period?: unknown }>(result, sr.encounter?.reference).period).toBeUndefined();
  });

  it('names an NHS number failing Modulus 11, a retired code system, a code outside its system and an unknown disposition', () => {
    const defective = CRISIS.replace('extension="9000000009"', 'extension="9000000001"')
      .replace('code="Dx335" codeSystem="2.16.840.1.113883.2.1.3.2.4.24"', 'code="XaKwL" codeSystem="2.16.840.1.113883.2.1.3.2.4.14"')
      .replace('code="425691002" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"', 'code="425691002" codeSystem="2.16.840.1.113883.2.1.3.2.4.99"')
      .replace('dischargeDispositionCode code="Dx335"', 'dischargeDispositionCode code="Dx9999"')
      .replace('<telecom value="tel:07700900123" use="MC"/>', '<telecom value="tel:07700900123" use="PG"/>')
      .replace('<telecom value="tel:01634111222" use="WP"/>', '<telecom value="fax:01634111222" use="WP"/>');
    const { result, issues } = readNhs111Pem(defective);
    const at = (suffix: string) => issues.filter((i) => i.expression?.[0].endsWith(suffix));
    expect(at('/recordTarget/patientRole/id[2]/@extension')[0]).toMatchObject({ severity: 'warning', code: 'value' });
    expect(at('/recordTarget/patientRole/id[2]/@extension')[0].diagnostics).toMatch(/9000000001/);
    expect(at('/entry/observation/value/@codeSystem')[0]).toMatchObject({ code: 'code-invalid' });
    expect(at('/entry/observation/value/@codeSystem')[0].diagnostics).toMatch(/CTV3.*retired/);
    expect(at('/authorization/consent/code/@codeSystem')[0].diagnostics).toMatch(/2\.16\.840\.1\.113883\.2\.1\.3\.2\.4\.99 is not SNOMED CT/);
    expect(at('/encompassingEncounter/dischargeDispositionCode/@code')[0]).toMatchObject({ code: 'code-invalid' });
    expect(at('/recordTarget/patientRole/telecom[2]/@value')[0].diagnostics).toMatch(/'PG' has no FHIR ContactPoint use/);
    expect(at('/providerOrganization/telecom/@value')[0].diagnostics).toMatch(/'fax:01634111222' is neither a tel: nor a mailto: URL/);
    expect(issues).toHaveLength(6);

    const sr = only<ServiceRequest>(result, 'ServiceRequest');
    expect(sr.priority).toBeUndefined(); // not guessed: the front door names urgency as missing
    expect(sr.reasonCode?.[0].coding?.map((c) => c.code)).toEqual(['Dx9999']); // the CTV3 discriminator is not mapped
    expect(resolve<Patient>(result, sr.subject?.reference).telecom?.[1]).toEqual({ system: 'phone', value: '07700900123' });
  });

  it('refuses only what cannot be read or routed, naming where', () => {
    const refusal = (xml: string) => {
      try {
        readNhs111Pem(xml);
      } catch (err) {
        expect(err).toBeInstanceOf(FhirError);
        return err as FhirError;
      }
      throw new Error('not refused');
    };
    expect(refusal('not xml').status).toBe(400);
    expect(refusal('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').status).toBe(400);
    expect(refusal('<Patient xmlns="http://hl7.org/fhir"/>').issues[0].expression).toEqual(['/Patient']);
    const noDocument = refusal(CRISIS.replace(/<ClinicalDocument[\s\S]*<\/ClinicalDocument>/, ''));
    expect(noDocument.issues[0].expression).toEqual(['/Envelope/Body/DistributionEnvelope/payloads']);
    const noSender = refusal(CRISIS.replace(/<itk:senderAddress [^>]*\/>/, ''));
    expect(noSender.issues[0].expression).toEqual(['/Envelope/Body/DistributionEnvelope/header/senderAddress/@uri']);
    const noPatient = refusal(CRISIS.replace(/<recordTarget[\s\S]*<\/recordTarget>/, ''));
    expect(noPatient.issues[0].expression).toEqual([`${DOC}/recordTarget`]);
    const deep = `<a>${'<b>'.repeat(200)}${'</b>'.repeat(200)}</a>`;
    expect(refusal(deep).status).toBe(400);
    const attributes = Array.from({ length: 65 }, (_, i) => `a${i}="x"`).join(' ');
    expect(refusal(`<ClinicalDocument ${attributes}/>`).status).toBe(400);
    expect(refusal(`<a>${'x'.repeat(11 * 1024 * 1024)}</a>`).status).toBe(400);
  });

  it('reads HL7 v3 points in time as FHIR dates and dateTimes, and nothing else', () => {
    expect(readHl7Timestamp('19890101')).toBe('1989-01-01');
    expect(readHl7Timestamp('1989')).toBe('1989');
    expect(readHl7Timestamp('201701012000+00')).toBe('2017-01-01T20:00:00+00:00');
    expect(readHl7Timestamp('20170101200015.25-0130')).toBe('2017-01-01T20:00:15.25-01:30');
    for (const bad of ['201701012000', '20170230', '201713', '@@date@@+00', '2017010125+00', '19890101+00', '']) {
      expect(readHl7Timestamp(bad), bad).toBeUndefined();
    }
  });
});

describe('nhs111-pem: the front door admits the mapped referral', () => {
  let t: TestDatabase;
  let p: MessageProcessor;
  beforeAll(async () => {
    t = await pgliteTestDatabase();
    p = processor(t.db);
  });
  afterAll(() => t.dispose());

  it('as a same-day crisis response: a red flag in the reason for call makes the triage Task stat, due within 4 hours', async () => {
    const { result } = readNhs111Pem(CRISIS);
    const res = await p.process({ body: result, headers: {}, async: false, baseUrl: 'http://stepwise.test/fhir' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const answer = res.body as Bundle;
    const tasks = answer.entry!.map((e) => e.resource!).filter((r): r is Task => r.resourceType === 'Task');
    const triage = tasks.find((task) => task.code?.coding?.some((c) => c.code === 'triage'))!;
    expect(triage.priority).toBe('stat');
    expect(triage.status).toBe('requested');
    expect(Date.parse(triage.restriction!.period!.end!) - Date.parse(triage.authoredOn!)).toBeLessThanOrEqual(4 * 3600_000);
  });
});

describe('nhs111-pem: random messages (fast-check)', () => {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  // XML 1.0 text: no control characters; whitespace runs are collapsed by the reader, so none at the ends
  const text = fc
    .string({ minLength: 1, maxLength: 30, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABC XYZ0123456789&<>"\'éü-,.'.split('')) })
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 0);
  const digits = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 10, maxLength: 10 }).map((d) => d.join(''));
  const pem = fc.record({
    nhsNumber: digits,
    given: text,
    family: text,
    reason: text,
    birth: fc.date({ min: new Date('1920-01-01'), max: new Date('2020-12-31'), noInvalidDate: true }),
    disposition: fc.constantFrom('Dx335', 'Dx42', 'Dx011', 'Dx0122', 'Dx77'),
  });

  it('maps every field it reads as written, names exactly the defects there are, and never fails otherwise', () => {
    fc.assert(
      fc.property(pem, (p) => {
        const birth = p.birth.toISOString().slice(0, 10);
        const xml = CRISIS.replace('extension="9000000009"', `extension="${p.nhsNumber}"`)
          .replace('<given>Sam</given>', `<given>${escape(p.given)}</given>`)
          .replace('<family>Taylor</family>', `<family>${escape(p.family)}</family>`)
          .replace('<birthTime value="19920314"/>', `<birthTime value="${birth.replace(/-/g, '')}"/>`)
          .replace(/<content>Caller's wife[^<]*<\/content>/, `<content>${escape(p.reason)}</content>`)
          .replace('dischargeDispositionCode code="Dx335"', `dischargeDispositionCode code="${p.disposition}"`);
        const { result, issues } = readNhs111Pem(xml);
        const sr = only<ServiceRequest>(result, 'ServiceRequest');
        const patient = resolve<Patient>(result, sr.subject?.reference);
        expect(patient.identifier?.[0].value).toBe(p.nhsNumber);
        expect(patient.name?.[0]).toMatchObject({ given: [p.given], family: p.family });
        expect(patient.birthDate).toBe(birth);
        expect(sr.reasonCode?.[0].text).toBe(p.reason);
        const expected = [
          ...(isValidNhsNumber(p.nhsNumber) ? [] : [`${DOC}/recordTarget/patientRole/id[2]/@extension`]),
          ...(p.disposition === 'Dx77' ? [`${DOC}/componentOf/encompassingEncounter/dischargeDispositionCode/@code`] : []),
        ];
        expect(expressions(issues)).toEqual(expected);
        expect(sr.priority === undefined).toBe(p.disposition === 'Dx77');
      }),
      { numRuns: 60 },
    );
  });
});

describe('nhs111-pem: the identity of a document', () => {
  it('a UUID root is the message id and a urn:uuid identifier; an OID root with an extension gets a stable name-based UUID and keeps both', () => {
    const uuid = readNhs111Pem(CRISIS).result;
    expect(uuid.id).toBe('6f1b3d5a-7c9e-4b2d-a4f6-8e0c2a4b6d8f');
    const withExtension = (ext: string) => readNhs111Pem(CRISIS.replace('<id root="6F1B3D5A-7C9E-4B2D-A4F6-8E0C2A4B6D8F"/>', `<id root="2.16.840.1.113883.2.1.3.2.4.18.99" extension="${ext}"/>`)).result;
    const a = withExtension('DOC-1');
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(withExtension('DOC-1').id).toBe(a.id);
    expect(withExtension('DOC-2').id).not.toBe(a.id);
    expect(only<ServiceRequest>(a, 'ServiceRequest').identifier).toEqual([{ system: 'urn:oid:2.16.840.1.113883.2.1.3.2.4.18.99', value: 'DOC-1' }]);
    const oid = readNhs111Pem(CRISIS.replace('<id root="6F1B3D5A-7C9E-4B2D-A4F6-8E0C2A4B6D8F"/>', '<id root="2.16.840.1.113883.2.1.3.2.4.18.99.7"/>')).result;
    expect(oid.id).toBe('2.16.840.1.113883.2.1.3.2.4.18.99.7');
    expect(only<ServiceRequest>(oid, 'ServiceRequest').identifier).toEqual([{ system: 'urn:ietf:rfc:3986', value: 'urn:oid:2.16.840.1.113883.2.1.3.2.4.18.99.7' }]);
  });
});

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Bundle, BundleEntry, Consent, HealthcareService, MessageHeader, Organization, Patient, Resource, ServiceRequest, Task, TaskInput } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVICES } from '../../src/config/bars-services.js';
import { FhirError } from '../../src/errors.js';
import { STEPWISE_CANONICAL_BASE } from '../../src/fhir/canonical.js';
import { readBars, writeBars } from '../../src/mapping/bars/bars-format.js';
import { formatOf } from '../../src/mapping/formats.js';
import { readNhs111Pem } from '../../src/mapping/nhs111/format.js';
import '../../src/mapping/registered-formats.js';
import { sharedBarsValidator } from '../../src/messaging/conformance.js';
import { MessageCatalogue, MessageProcessor } from '../../src/messaging/index.js';
import { FixedClock } from '../../src/clock.js';
import { pgliteTestDatabase, type TestDatabase } from '../support/databases.js';
import { fixturePath } from '../support/fixtures.js';
import { barsHeaders } from '../messaging/support.js';

const CANON = STEPWISE_CANONICAL_BASE;
const CRISIS_LINE_DOS = '2000072002';
const DOS = 'https://fhir.nhs.uk/Id/dos-service-id';
const EXAMPLE = readFileSync(new URL('../../docs/examples/bars-referral.json', import.meta.url), 'utf8');

function resources<T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] {
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

function byUrl<T>(bundle: Bundle, reference: string | undefined): T {
  const found = bundle.entry?.find((e) => e.fullUrl === reference);
  expect(found, reference).toBeDefined();
  return found!.resource as T;
}

/** The crisis referral nhs111-pem reads, sent to the crisis line (a performer with its DoS id). */
function crisisReferral(): Bundle {
  const { result } = readNhs111Pem(readFileSync(fixturePath('nhs111', 'crisis-overdose-pem.xml'), 'utf8'));
  const service: HealthcareService = { resourceType: 'HealthcareService', identifier: [{ system: DOS, value: CRISIS_LINE_DOS }], name: 'Mental health crisis line (24/7)' };
  result.entry!.push({ fullUrl: 'urn:uuid:0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a90', resource: service });
  resources<ServiceRequest>(result, 'ServiceRequest')[0].performer = [{ reference: 'urn:uuid:0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a90' }];
  return result;
}

const input = (system: string, code: string, value: Partial<TaskInput>): TaskInput => ({ type: { coding: [{ system, code }] }, ...value });

/** A step-down handover as the pathway holds it (profiles/examples/StepwiseHandoverTask), with what it refers to. */
function handover(parts: { medication: string; safety: string; frequency: string; redFlags: string; carer: string | true }): Bundle {
  const task: Task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [{ system: `${CANON}/CodeSystem/task-code`, code: 'transfer-of-responsibility' }] },
    focus: { reference: 'urn:uuid:6a1c3e5b-7d9f-4b1d-83f5-a7c9e1b3d5f7' },
    for: { reference: 'urn:uuid:7b2d4f6a-8c0e-4a2c-94e6-b8d0f2a4c6e8' },
    authoredOn: '2026-11-20T15:00:00Z',
    requester: { reference: 'urn:uuid:9d4f6b8c-0e2a-4c4e-b6a8-d0f2b4c6e8a0', display: 'Crisis team lead' },
    owner: { reference: 'urn:uuid:8c3e5a7b-9d1f-4b3d-a5f7-c9e1a3b5d7f9', display: 'Community mental health team (North)' },
    input: [
      input(`${CANON}/CodeSystem/task-parameter-type`, 'transition-plan', { valueReference: { reference: 'urn:uuid:6a1c3e5b-7d9f-4b1d-83f5-a7c9e1b3d5f7' } }),
      input(`${CANON}/CodeSystem/task-parameter-type`, 'medication-actions', { valueString: parts.medication }),
      input(`${CANON}/CodeSystem/task-parameter-type`, 'safety-measures', { valueString: parts.safety }),
      input(`${CANON}/CodeSystem/task-parameter-type`, 'contact-frequency', { valueString: parts.frequency }),
      input(`${CANON}/CodeSystem/task-parameter-type`, 'red-flag-thresholds', { valueString: parts.redFlags }),
      input(`${CANON}/CodeSystem/handover-checklist`, 'appointments-booked', { valueBoolean: true }),
      input(`${CANON}/CodeSystem/handover-checklist`, 'support-hours-adjusted', { valueBoolean: true }),
      input(`${CANON}/CodeSystem/handover-checklist`, 'risk-plan-updated', { valueBoolean: true }),
      input(`${CANON}/CodeSystem/handover-checklist`, 'carer-contact-agreed', parts.carer === true ? { valueBoolean: true } : { valueString: parts.carer }),
    ],
  };
  const entry: BundleEntry[] = [
    { fullUrl: 'urn:uuid:5f0b2d4c-6e8a-4c0e-b2d4-f6a8c0e2b4d6', resource: task },
    {
      fullUrl: 'urn:uuid:6a1c3e5b-7d9f-4b1d-83f5-a7c9e1b3d5f7',
      resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'urn:uuid:7b2d4f6a-8c0e-4a2c-94e6-b8d0f2a4c6e8' }, title: 'Step-down after home treatment' },
    },
    { fullUrl: 'urn:uuid:7b2d4f6a-8c0e-4a2c-94e6-b8d0f2a4c6e8', resource: { resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }] } },
    {
      fullUrl: 'urn:uuid:9d4f6b8c-0e2a-4c4e-b6a8-d0f2b4c6e8a0',
      resource: { resourceType: 'PractitionerRole', organization: { reference: 'urn:uuid:ad5f7b9c-1e3a-4c5e-b7a9-e1f3b5d7f9a1' }, code: [{ text: 'Crisis team lead' }] },
    },
    { fullUrl: 'urn:uuid:ad5f7b9c-1e3a-4c5e-b7a9-e1f3b5d7f9a1', resource: { resourceType: 'Organization', identifier: [{ system: DOS, value: '2000072002' }], name: 'Crisis team' } },
    {
      fullUrl: 'urn:uuid:8c3e5a7b-9d1f-4b3d-a5f7-c9e1a3b5d7f9',
      resource: { resourceType: 'Organization', identifier: [{ system: DOS, value: '2000072003' }, { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RV5' }], name: 'CMHT North' },
    },
  ];
  return { resourceType: 'Bundle', type: 'collection', timestamp: '2026-11-20T15:00:00Z', entry };
}

function refusal(fn: () => unknown): FhirError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    return err as FhirError;
  }
  throw new Error('not refused');
}

describe('bars: crisis referrals out as BaRS servicerequest-request messages', () => {
  let t: TestDatabase;
  let p: MessageProcessor;
  beforeAll(async () => {
    t = await pgliteTestDatabase();
    p = new MessageProcessor({ db: t.db, clock: new FixedClock(new Date('2026-03-02T09:00:00Z')), catalogue: new MessageCatalogue(DEFAULT_SERVICES), validator: sharedBarsValidator });
  });
  afterAll(() => t.dispose());

  it('is registered both ways', () => {
    expect(formatOf('bars')?.read).toBeTypeOf('function');
    expect(formatOf('bars')?.write).toBeTypeOf('function');
  });

  it('writes the 111 crisis referral as a BaRS referral that a BaRS receiver (Stepwise crisis line) accepts and triages same day', async () => {
    const { result, issues } = writeBars(crisisReferral());
    expect(issues).toEqual([]);
    const message = JSON.parse(result as string) as Bundle;
    expect(message.meta?.profile).toEqual(['https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage']);
    const header = message.entry![0].resource as MessageHeader;
    expect(header.eventCoding).toEqual({ system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-request' });
    expect(header.destination?.[0].endpoint).toBe(`${DOS}|${CRISIS_LINE_DOS}`);
    const sr = byUrl<ServiceRequest>(message, header.focus?.[0].reference);
    expect(sr.intent).toBe('plan');
    expect(sr.category?.[0].coding?.map((c) => c.code)).toEqual(['referral', 'a1t1']);
    expect(byUrl<{ status: string }>(message, sr.basedOn?.[0].reference).status).toBe('completed');
    const patient = byUrl<Patient>(message, sr.subject?.reference);
    expect(patient.contact?.[0]).toMatchObject({ extension: [{ valuePositiveInt: 1 }], telecom: [{ system: 'phone', value: '01634775667' }] });
    expect(resources<Consent>(message, 'Consent')[0].category?.some((c) => c.coding?.some((x) => x.code === 'DRC'))).toBe(true);

    const res = await p.process({ body: message, headers: barsHeaders(CRISIS_LINE_DOS, 'a1t1|referral|servicerequest-request|new'), async: false, baseUrl: 'http://stepwise.test/fhir' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const triage = resources<Task>(res.body as Bundle, 'Task').find((task) => task.code?.coding?.some((c) => c.code === 'triage'));
    expect(triage?.priority).toBe('stat');
  });

  it('gives a BaRS message back as it is: bars -> fhir -> bars is the same message', () => {
    const { result, issues } = readBars(EXAMPLE);
    expect(issues).toEqual([]);
    expect(JSON.parse(writeBars(result).result as string)).toEqual(JSON.parse(EXAMPLE));
  });

  it('names what it cannot carry, and a referral without a routable destination', () => {
    const bundle = crisisReferral();
    const sr = resources<ServiceRequest>(bundle, 'ServiceRequest')[0];
    sr.bodySite = [{ text: 'n/a' }];
    delete sr.performer;
    const { issues } = writeBars(bundle);
    const srIndex = bundle.entry!.findIndex((e) => e.resource === sr);
    expect(issues.map((i) => [i.code, i.expression?.[0]])).toEqual([
      ['required', 'Bundle.entry[0].resource.destination'],
      ['not-supported', `Bundle.entry[${srIndex}].resource.bodySite`],
    ]);
  });

  it('names defects in what a message says (NHS number, retired code system) at their FHIRPath, and refuses only what cannot be routed', () => {
    const message = JSON.parse(EXAMPLE) as Bundle;
    const patient = resources<Patient>(message, 'Patient')[0];
    patient.identifier![0].value = '9000000001';
    patient.identifier![0].extension![0].valueCodeableConcept!.coding![0].system = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus';
    const at = `Bundle.entry[${message.entry!.findIndex((e) => e.resource === patient)}].resource.identifier[0]`;
    const { issues } = readBars(JSON.stringify(message));
    expect(issues.map((i) => [i.severity, i.code, i.expression?.[0]])).toEqual([
      ['warning', 'value', `${at}.value`],
      ['warning', 'code-invalid', `${at}.extension[0].valueCodeableConcept.coding[0].system`],
    ]);

    expect(refusal(() => readBars('{')).status).toBe(400);
    expect(refusal(() => readBars(JSON.stringify({ resourceType: 'Patient' }))).issues[0].expression).toEqual(['Bundle']);
    expect(refusal(() => readBars(JSON.stringify({ ...message, entry: message.entry!.slice(1) }))).issues[0].expression).toEqual(['Bundle.entry[0]']);
    expect(refusal(() => writeBars({ resourceType: 'Bundle', type: 'collection', entry: [] })).issues[0].expression).toEqual(['Bundle.entry']);
  });
});

describe('bars: the step-down handover, with its transition plan and checklist', () => {
  const parts = { medication: 'Depot due 28 Nov', safety: 'Crisis card given', frequency: 'Three contacts a week', redFlags: 'Not sleeping two nights', carer: 'Not appropriate: the person asked that their family is not contacted' };

  it('writes a BaRS-shaped handover-request message whose focus is the handover, to the receiving team', () => {
    const source = handover(parts);
    const { result, issues } = writeBars(source);
    // a collection from the store came from no message: Stepwise is named the sender
    expect(issues.map((i) => [i.severity, i.expression?.[0]])).toEqual([['information', 'Bundle.entry[0].resource.source']]);
    const message = JSON.parse(result as string) as Bundle;
    const header = message.entry![0].resource as MessageHeader;
    expect(header.eventCoding).toEqual({ system: `${CANON}/CodeSystem/message-event`, code: 'handover-request' });
    expect(header.destination).toEqual([{ endpoint: `${DOS}|2000072003`, receiver: { reference: 'urn:uuid:8c3e5a7b-9d1f-4b3d-a5f7-c9e1a3b5d7f9', display: 'Community mental health team (North)' } }]);
    expect(header.sender).toEqual({ reference: 'urn:uuid:9d4f6b8c-0e2a-4c4e-b6a8-d0f2b4c6e8a0', display: 'Crisis team lead' });
    const task = byUrl<Task>(message, header.focus?.[0].reference);
    expect(task.input).toEqual((source.entry![0].resource as Task).input);
    expect(byUrl<Organization>(message, task.owner?.reference).name).toBe('CMHT North');
  });

  it('names a checklist code outside its code system', () => {
    const source = handover(parts);
    (source.entry![0].resource as Task).input![5].type.coding![0].code = 'appointments-done';
    const { issues } = writeBars(source);
    expect(issues.filter((i) => i.severity === 'warning').map((i) => i.expression?.[0])).toEqual(['Bundle.entry[1].resource.input[5].type.coding[0].code']);
  });

  it('in: the handover message read back is stored by the messaging front door, the handover policies applied', async () => {
    const t = await pgliteTestDatabase();
    try {
      const clock = new FixedClock(new Date('2026-11-20T15:05:00Z'));
      const p = new MessageProcessor({ db: t.db, clock, catalogue: new MessageCatalogue(DEFAULT_SERVICES), validator: sharedBarsValidator });
      const send = async (bundle: Bundle) => p.process({ body: readBars(writeBars(bundle).result as string).result, headers: {}, async: false, baseUrl: 'http://stepwise.test/fhir' });

      const incomplete = handover(parts);
      (incomplete.entry![0].resource as Task).input = (incomplete.entry![0].resource as Task).input!.filter((i) => i.type.coding?.[0].code !== 'red-flag-thresholds');
      const refused = await send(incomplete);
      expect(refused.status).toBe(422);
      expect(JSON.stringify(refused.body)).toMatch(/red-flag thresholds/);

      const res = await send(handover(parts));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const [task] = resources<Task>(res.body as Bundle, 'Task').filter((x) => x.code?.coding?.some((c) => c.code === 'transfer-of-responsibility'));
      expect(task.status).toBe('requested'); // the crisis team stays accountable until the CMHT accepts
      expect(task.input?.find((i) => i.type.coding?.[0].code === 'red-flag-thresholds')?.valueString).toBe(parts.redFlags);
      expect(task.owner?.reference).toMatch(/^Organization\//);
    } finally {
      await t.dispose();
    }
  });
});

describe('bars: both ways, on random records (fast-check)', () => {
  const text = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim().length > 0);
  const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
  const date = fc.date({ min: new Date('1920-01-01'), max: new Date('2020-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
  const instant = fc.date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString().replace('.000Z', '+00:00'));

  type Referral = typeof referral extends fc.Arbitrary<infer T> ? T : never;
  const referral = fc.record({
    nhsNumber: digits(10),
    family: text,
    given: fc.array(text, { minLength: 1, maxLength: 2 }),
    birthDate: date,
    gender: fc.constantFrom('male', 'female', 'other', 'unknown'),
    phone: digits(11),
    postcode: text,
    priority: fc.option(fc.constantFrom('routine', 'urgent', 'asap', 'stat'), { nil: undefined }),
    reason: text,
    notes: fc.array(text, { maxLength: 3 }),
    authoredOn: instant,
    ods: fc.stringMatching(/^[A-Z0-9]{3,6}$/),
    snomed: fc.option(digits(9), { nil: undefined }),
  });

  function referralBundle(r: Referral): Bundle {
    const patient: Patient = {
      resourceType: 'Patient',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: r.nhsNumber }],
      name: [{ family: r.family, given: r.given }],
      gender: r.gender as Patient['gender'],
      birthDate: r.birthDate,
      telecom: [{ system: 'phone', value: r.phone }],
      address: [{ postalCode: r.postcode }],
    };
    const sr: ServiceRequest = {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000002' },
      requester: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000003' },
      authoredOn: r.authoredOn,
      reasonCode: [{ text: r.reason, ...(r.snomed ? { coding: [{ system: 'http://snomed.info/sct', code: r.snomed }] } : {}) }],
      ...(r.priority ? { priority: r.priority as ServiceRequest['priority'] } : {}),
      ...(r.notes.length ? { note: r.notes.map((n) => ({ text: n })) } : {}),
    };
    const org: Organization = { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: r.ods }] };
    return {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001', resource: sr },
        { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002', resource: patient },
        { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000003', resource: org },
      ],
    };
  }

  it('fhir -> bars -> fhir keeps every mapped field of the referral, person and referrer; bars -> fhir -> bars is the same message', () => {
    fc.assert(
      fc.property(referral, (r) => {
        const source = referralBundle(r);
        const written = writeBars(source).result as string;
        const back = readBars(written).result;
        const sr = resources<ServiceRequest>(back, 'ServiceRequest')[0];
        const original = source.entry![0].resource as ServiceRequest;
        for (const field of ['status', 'priority', 'authoredOn', 'reasonCode', 'note'] as const) expect(sr[field]).toEqual(original[field]);
        const patient = byUrl<Patient>(back, sr.subject?.reference);
        const before = source.entry![1].resource as Patient;
        for (const field of ['identifier', 'name', 'gender', 'birthDate', 'telecom', 'address'] as const) expect(patient[field]).toEqual(before[field]);
        expect(byUrl<Organization>(back, sr.requester?.reference).identifier).toEqual((source.entry![2].resource as Organization).identifier);
        expect(JSON.parse(writeBars(back).result as string)).toEqual(JSON.parse(written));
      }),
      { numRuns: 40 },
    );
  });

  it('fhir -> bars -> fhir keeps the handover Task whole: transition plan and checklist', () => {
    const parts = fc.record({ medication: text, safety: text, frequency: text, redFlags: text, carer: fc.oneof(fc.constant(true as const), text) });
    fc.assert(
      fc.property(parts, (p) => {
        const source = handover(p);
        const written = writeBars(source).result as string;
        const back = readBars(written).result;
        const header = back.entry![0].resource as MessageHeader;
        expect(byUrl<Task>(back, header.focus?.[0].reference)).toEqual(source.entry![0].resource);
        expect(JSON.parse(writeBars(back).result as string)).toEqual(JSON.parse(written));
      }),
      { numRuns: 40 },
    );
  });
});

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Bundle, BundleEntry, Flag, Patient, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { FixedClock } from '../../src/clock.js';
import { parseFhirXml } from '../../src/fhir/xml/index.js';
import { encodeJsonHeader, HEADER_NAMES, type HeaderKey, type RawMessageHeaders } from '../../src/messaging/headers.js';
import { MessageCatalogue, MessageProcessor } from '../../src/messaging/index.js';
import { sharedBarsValidator } from '../../src/messaging/conformance.js';
import { MD, type HostedService } from '../../src/config/bars-services.js';
import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { pgliteTestDatabase, type TestDatabase } from '../support/databases.js';
import { fixturePath } from '../support/fixtures.js';

/** The published BaRS samples (test/fixtures/nhs/bars; origins in test/fixtures/SOURCES.md). */
export const SAMPLES = fixturePath('nhs', 'bars');
export const SAMPLE_DOS_ID = '111111111';
/** The front door's DoS id, in the default hosted services (src/config/bars-services.ts) and in TEST_SERVICES. */
export const FRONT_DOOR_DOS = '2000072001';
export const DOS = 'https://fhir.nhs.uk/Id/dos-service-id';

export function sample(name: string): Bundle {
  return parseFhirXml(readFileSync(`${SAMPLES}/${name}`, 'utf8')) as Bundle;
}

/** The services of the samples' receiver (DoS 111111111) plus a Stepwise front door. */
export const TEST_SERVICES: HostedService[] = [
  { key: 'sample-receiver', name: 'Sample receiver', dosId: SAMPLE_DOS_ID, useCases: ['a1t1', 'a4t1', 'a5t1'], definitions: Object.values(MD) },
  { key: 'sample-sender', name: 'Sample sender (receives responses)', dosId: '2222222222', useCases: ['a1t1'], definitions: [MD.responseReferral] },
  { key: 'front-door', name: 'Front door', dosId: FRONT_DOOR_DOS, useCases: ['a5t1'], definitions: [MD.referral, MD.cancelled] },
];

export function processor(db: Database, clock = new FixedClock(new Date('2026-03-02T09:00:00Z'))): MessageProcessor {
  return new MessageProcessor({ db, clock, catalogue: new MessageCatalogue(TEST_SERVICES), validator: sharedBarsValidator });
}

let counter = 0;
/** A fresh GUID-shaped request id. */
export function guid(): string {
  counter++;
  return `${(Date.now() % 0xffffffff).toString(16).padStart(8, '0')}-${counter.toString(16).padStart(4, '0')}-4000-8000-${Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0')}`;
}

/** The BaRS headers for a message to a DoS service. */
export function barsHeaders(dosId: string, useContext: string, overrides: Partial<RawMessageHeaders> = {}): RawMessageHeaders {
  return {
    requestId: guid(),
    correlationId: guid(),
    targetIdentifier: encodeJsonHeader({ system: DOS, value: dosId }),
    requestingSoftware: encodeJsonHeader({ resourceType: 'Device', identifier: [{ system: 'https://consumersupplier.com/Id/device-identifier', value: 'GP-SYS-1' }], deviceName: [{ name: 'GP system', type: 'manufacturer-name' }] }),
    endUserOrganisation: encodeJsonHeader({ resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83627' }], name: 'Test practice' }),
    useContext,
    ...overrides,
  };
}

export function headersAsHttp(h: RawMessageHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined).map(([k, v]) => [HEADER_NAMES[k as HeaderKey], v as string]));
}

export function entry<T extends Resource>(bundle: Bundle, type: T['resourceType'], n = 0): BundleEntry<T> {
  const found = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === type);
  if (!found[n]) throw new Error(`no ${type} #${n} in the bundle`);
  return found[n] as BundleEntry<T>;
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** A small, valid BaRS referral to a service: the MessageDefinition's required resources and no more. */
export function referralMessage(opts: { dosId?: string; nhsNumber?: string; bundleId?: string; ods?: string[]; freshUrls?: boolean } = {}): Bundle {
  const dosId = opts.dosId ?? FRONT_DOOR_DOS;
  const ods = opts.ods ?? ['A83627', 'RV5'];
  // fixed fullUrls by default (tests point at them); freshUrls gives each message its own, as senders do
  const prefix = opts.freshUrls ? randomUUID().slice(0, 23) : '00000000-0000-4000-8000';
  const u = (n: string) => `urn:uuid:${prefix}-${n.padStart(12, '0')}`;
  const resources: [string, Resource][] = [
    [
      u('1'),
      {
        resourceType: 'MessageHeader',
        eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-request' },
        destination: [{ endpoint: `${DOS}|${dosId}`, receiver: { reference: u('8') } }],
        sender: { reference: u('7') },
        source: { name: 'GP practice', software: 'GP system', version: '1.0', endpoint: `${DOS}|2000099999` },
        reason: { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: 'new' }] },
        focus: [{ reference: u('2') }],
        definition: MD.referral,
      },
    ],
    [
      u('2'),
      {
        resourceType: 'ServiceRequest',
        meta: { profile: ['https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral'] },
        basedOn: [{ reference: u('4') }],
        status: 'active',
        intent: 'plan',
        category: [
          {
            coding: [
              { system: 'https://fhir.nhs.uk/CodeSystem/message-category-servicerequest', code: 'referral', display: 'Transfer of Care' },
              { system: 'https://fhir.nhs.uk/CodeSystem/usecases-categories-bars', code: 'a5t1' },
            ],
          },
        ],
        subject: { reference: u('5') },
        encounter: { reference: u('3') },
        occurrencePeriod: { start: '2026-03-02T09:00:00+00:00', end: '2026-03-03T09:00:00+00:00' },
        authoredOn: '2026-03-02T08:55:00+00:00',
        requester: { reference: u('9') },
        performer: [{ reference: u('11') }],
        reasonCode: [{ text: 'Low mood, not sleeping, stopped medication two weeks ago' }],
      },
    ],
    [u('3'), { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: u('5') } }],
    [u('4'), { resourceType: 'CarePlan', status: 'completed', intent: 'plan', subject: { reference: u('5') }, encounter: { reference: u('3') } }],
    [
      u('5'),
      {
        resourceType: 'Patient',
        identifier: [
          {
            extension: [{ url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus', valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland', code: '01', display: 'Number present and verified' }] } }],
            system: 'https://fhir.nhs.uk/Id/nhs-number',
            value: opts.nhsNumber ?? '9000000009',
          },
        ],
        name: [{ family: 'Smith', given: ['Richard'] }],
        birthDate: '1980-05-12',
        contact: [
          {
            extension: [{ url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactRank', valuePositiveInt: 1 }],
            relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'ONESELF' }] }],
            telecom: [{ system: 'phone', value: '07700900123', use: 'mobile' }],
          },
        ],
      },
    ],
    [u('6'), { resourceType: 'Practitioner', identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: '555555555555' }], name: [{ family: 'Jones', given: ['Ann'] }] }],
    [u('7'), { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: ods[0] }], name: 'Sending practice' }],
    [u('8'), { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: ods[1] }], name: 'Receiving trust' }],
    [u('9'), { resourceType: 'PractitionerRole', practitioner: { reference: u('6') }, organization: { reference: u('7') } }],
    [
      u('10'),
      {
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/consent-categories-bars', code: 'DRC', display: 'Direct Care' }] }],
        patient: { reference: u('5') },
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMPLIED' }] },
      },
    ],
    [u('11'), { resourceType: 'HealthcareService', identifier: [{ system: DOS, value: dosId }], providedBy: { reference: u('8') }, name: 'Front door' }],
  ];
  return {
    resourceType: 'Bundle',
    id: opts.bundleId ?? guid(),
    meta: { versionId: '1.0.0', profile: ['https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage'] },
    type: 'message',
    timestamp: '2026-03-02T08:55:00+00:00',
    entry: resources.map(([fullUrl, resource]) => ({ fullUrl, resource })),
  };
}

export const REFERRAL_CONTEXT = 'a5t1|referral|servicerequest-request|new';

export const PUBLISHED_NHS_NUMBER = '3478526985';
export const REPAIRED_NHS_NUMBER = '3478526981';
const RETIRED = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus';

/** Every message sample of the corpus, with where it is sent and its use-context header. */
export const MESSAGES: { file: string; dosId: string; useContext: string }[] = [
  { file: 'REFREQ01-referral-111-to-ED.xml', dosId: SAMPLE_DOS_ID, useContext: 'a1t1|referral|servicerequest-request|new' },
  { file: 'REFREQ03-referral-GP-to-community-pharmacy.xml', dosId: SAMPLE_DOS_ID, useContext: 'a5t1|referral|servicerequest-request|new' },
  { file: 'REFRESP01-response-ED-to-111-safeguarding-DNA.xml', dosId: '2222222222', useContext: 'a1t1|referral|servicerequest-response|new' },
  { file: 'SERVREQ01-servicerequest-update-revoked.xml', dosId: SAMPLE_DOS_ID, useContext: 'a4t1|validation|servicerequest-request|update' },
];

/** The smallest corrections of the defects above, and nothing else. */
export function repaired(file: string): Bundle {
  const bundle = sample(file);
  for (const e of bundle.entry ?? []) {
    const r = e.resource as Resource;
    if (r.resourceType === 'Patient') {
      for (const id of (r as Patient).identifier ?? []) {
        if (id.value === PUBLISHED_NHS_NUMBER) id.value = REPAIRED_NHS_NUMBER;
        for (const c of id.extension?.[0]?.valueCodeableConcept?.coding ?? []) {
          if (c.system === RETIRED) Object.assign(c, { system: `${RETIRED}England`, code: '01', display: 'Number present and verified' });
        }
      }
    }
    if (r.resourceType === 'Flag') {
      for (const cat of (r as Flag).category ?? []) {
        for (const c of cat.coding ?? []) if (c.system?.includes('ValueSet-RARecord')) Object.assign(c, { system: 'https://fhir.nhs.uk/CodeSystem/flag-categories-bars', code: 'RA', display: 'Reasonable Adjustment' });
      }
    }
    if (r.resourceType === 'ServiceRequest' && file.startsWith('SERVREQ01')) {
      const sr = r as ServiceRequest;
      sr.category = [{ coding: sr.category![0].coding!.filter((c) => !c.system!.includes('usecases')) }];
      sr.authoredOn = '2021-11-26T15:02:00+00:00';
    }
  }
  return bundle;
}


/**
 * A message processor over a fresh PGlite database for one describe block: created before its
 * tests, disposed after. `send` posts a message to a hosted service with BaRS headers.
 */
export function useProcessor() {
  const f = {} as {
    t: TestDatabase;
    p: MessageProcessor;
    send: (body: unknown, dosId: string, useContext: string) => ReturnType<MessageProcessor['process']>;
  };
  beforeAll(async () => {
    f.t = await pgliteTestDatabase();
    f.p = processor(f.t.db);
  });
  afterAll(() => f.t.dispose());
  f.send = (body, dosId, useContext) => f.p.process({ body, headers: barsHeaders(dosId, useContext), async: false, baseUrl: 'http://stepwise.test/fhir' });
  return f;
}

import type { Bundle, Flag, OperationOutcome, Patient, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../../src/fhir/nhs-number.js';
import { parseFhirXml } from '../../src/fhir/xml/index.js';
import { readFileSync } from 'node:fs';
import { checkBarsMessage } from '../../src/messaging/bars-rules.js';
import { sharedBarsValidator } from '../../src/messaging/conformance.js';
import { parseBarsHeaders, PROCESS_MESSAGE_REQUIRED } from '../../src/messaging/headers.js';
import { MessageCatalogue } from '../../src/messaging/index.js';
import { readMessage } from '../../src/messaging/message.js';
import { barsHeaders, clone, entry, FRONT_DOOR_DOS, REFERRAL_CONTEXT, referralMessage, repaired, sample, SAMPLE_DOS_ID, SAMPLES, TEST_SERVICES, useProcessor } from './support.js';


import { PUBLISHED_NHS_NUMBER, REPAIRED_NHS_NUMBER, MESSAGES } from './support.js';

/**
 * The defects each published sample really has, found by checking (not assumed): issue code,
 * FHIRPath and a phrase of the message. The NHS number 3478526985 fails Modulus 11 (check digit 1,
 * not 5); UKCore-NHSNumberVerificationStatus is the retired code system (now …England, code 01);
 * REFRESP01 codes a Flag category with an STU3 ValueSet URL instead of flag-categories-bars;
 * SERVREQ01 declares BARSServiceRequest-request-validation, whose fixed category coding forbids
 * the use-case coding it carries, and lacks the authoredOn that the cancellation MessageDefinition's
 * referral profile requires.
 */
const DEFECTS: Record<string, [string, string, string][]> = {
  'REFREQ01-referral-111-to-ED.xml': [
    ['value', 'Bundle.entry[5].resource.identifier[0].value', 'fails the Modulus 11 check'],
    ['value', 'Bundle.entry[5].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system', 'retired UK Core code system'],
  ],
  'REFREQ03-referral-GP-to-community-pharmacy.xml': [
    ['value', 'Bundle.entry[6].resource.identifier[0].value', 'fails the Modulus 11 check'],
    ['value', 'Bundle.entry[6].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system', 'retired UK Core code system'],
  ],
  'REFRESP01-response-ED-to-111-safeguarding-DNA.xml': [
    ['value', 'Bundle.entry[5].resource.identifier[0].value', 'fails the Modulus 11 check'],
    ['value', 'Bundle.entry[5].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system', 'retired UK Core code system'],
    ['value', 'Bundle.entry[14].resource.category[0].coding[0]', 'ValueSet-RARecord-AdjustmentCategories-1|personalisation'],
  ],
  'SERVREQ01-servicerequest-update-revoked.xml': [
    ['value', 'Bundle.entry[2].resource.identifier[0].value', 'fails the Modulus 11 check'],
    ['value', 'Bundle.entry[2].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system', 'retired UK Core code system'],
    ['value', 'Bundle.entry[1].resource.category[0].coding[1].system', 'must be exactly "https://fhir.nhs.uk/CodeSystem/message-category-servicerequest"'],
    ['value', 'Bundle.entry[1].resource.category[0].coding[1].code', 'must be exactly "validation"'],
    ['required', 'Bundle.entry[1].resource.authoredOn', 'authoredOn needs at least 1 value'],
  ],
};

describe('BaRS samples', () => {
  const fixture = useProcessor();

  const { send } = fixture;
  // what a rejected message may leave is its log row and its AuditEvent
  const count = async () => Number((await fixture.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM resource WHERE type <> 'AuditEvent'"))[0].n);

  it('the NHS number of the samples really fails Modulus 11, and the repair passes', () => {
    expect(isValidNhsNumber(PUBLISHED_NHS_NUMBER)).toBe(false);
    expect(isValidNhsNumber(REPAIRED_NHS_NUMBER)).toBe(true);
  });

  for (const { file, dosId, useContext } of MESSAGES) {
    it(`${file} as published: 400 naming exactly its defects, nothing stored`, async () => {
      const before = await count();
      const res = await send(sample(file), dosId, useContext);
      expect(res.status).toBe(400);
      const oo = res.body as OperationOutcome;
      const found = oo.issue.map((i) => [i.code, i.expression?.[0]]);
      expect(found.sort()).toEqual(DEFECTS[file].map(([c, x]) => [c, x]).sort());
      for (const [, expression, phrase] of DEFECTS[file]) {
        expect(oo.issue.find((i) => i.expression?.[0] === expression)?.diagnostics).toContain(phrase);
      }
      for (const i of oo.issue) expect(i.details?.coding?.[0]).toMatchObject({ system: 'https://fhir.nhs.uk/CodeSystem/http-error-codes', code: 'REC_BAD_REQUEST' });
      expect(await count()).toBe(before);
    });
  }

  for (const { file, dosId, useContext } of MESSAGES) {
    it(`${file} repaired passes every BaRS check`, () => {
      const { message, issues } = readMessage(repaired(file));
      expect(issues).toEqual([]);
      const { headers } = parseBarsHeaders(barsHeaders(dosId, useContext), PROCESS_MESSAGE_REQUIRED);
      expect(() => checkBarsMessage(message!, headers, new MessageCatalogue(TEST_SERVICES), sharedBarsValidator())).not.toThrow();
    });
  }

  describe('resource samples inside a referral', () => {
    const resourceSample = (file: string) => parseFhirXml(readFileSync(`${SAMPLES}/${file}`, 'utf8'));
    const withResource = (resource: Resource): Bundle => {
      const m = referralMessage();
      const patientUrl = entry<Patient>(m, 'Patient').fullUrl!;
      const r = clone(resource) as Resource & { subject?: { reference: string }; patient?: { reference: string } };
      if (r.subject) r.subject.reference = patientUrl;
      if (r.patient) r.patient.reference = patientUrl;
      m.entry!.push({ fullUrl: `urn:uuid:${r.id}`, resource: r });
      return m;
    };

    it.each(['FLA02-flag-reasonable-adjustment.xml', 'FLA06-flag-safeguarding-concern.xml', 'CONS01-consent-direct-care.xml'])('%s passes every BaRS check', (file) => {
      const { message } = readMessage(withResource(resourceSample(file)));
      const { headers } = parseBarsHeaders(barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT), PROCESS_MESSAGE_REQUIRED);
      expect(() => checkBarsMessage(message!, headers, new MessageCatalogue(TEST_SERVICES), sharedBarsValidator())).not.toThrow();
    });

    it('FLA06 (closed period) is stored with the referral', async () => {
      const res = await send(withResource(resourceSample('FLA06-flag-safeguarding-concern.xml')), FRONT_DOOR_DOS, REFERRAL_CONTEXT);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
  });
});

import type { Bundle, OperationOutcome, Patient, Resource, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../../src/fhir/nhs-number.js';
import { parseFhirXml } from '../../src/fhir/xml/index.js';
import { readFileSync } from 'node:fs';
import { checkBarsMessage } from '../../src/messaging/bars-rules.js';
import { sharedBarsValidator } from '../../src/messaging/conformance.js';
import { parseBarsHeaders, PROCESS_MESSAGE_REQUIRED } from '../../src/messaging/headers.js';
import { MessageCatalogue } from '../../src/messaging/index.js';
import { readMessage } from '../../src/messaging/message.js';
import { barsHeaders, clone, entry, FRONT_DOOR_DOS, guid, REFERRAL_CONTEXT, referralMessage, repaired, sample, SAMPLE_DOS_ID, SAMPLES, TEST_SERVICES, useProcessor } from './support.js';


import { PUBLISHED_NHS_NUMBER, REPAIRED_NHS_NUMBER, MESSAGES } from './support.js';

/**
 * The defects each published sample really has, found by checking (not assumed): issue code,
 * FHIRPath and a phrase of the message. The NHS number 3478526985 fails Modulus 11 (check digit 1,
 * not 5); UKCore-NHSNumberVerificationStatus is the retired code system (now …England, code 01);
 * REFRESP01 codes a Flag category with an STU3 ValueSet URL instead of flag-categories-bars;
 * SERVREQ01 lacks the authoredOn that the referral profile requires. None refuses the message:
 * each is a warning of the answer ("a referral is never refused for what it says").
 */
const DEFECTS: Record<string, [string, string, string][]> = {
  'REFREQ01-referral-111-to-ED.xml': [
    ['value', 'Bundle.entry[5].resource.identifier[0].value', 'fails the Modulus 11 check'],
    ['code-invalid', 'Bundle.entry[5].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system', 'retired UK Core code system'],
  ],
  'REFREQ03-referral-GP-to-community-pharmacy.xml': [
    ['value', 'Bundle.entry[6].resource.identifier[0].value', 'fails the Modulus 11 check'],
    ['code-invalid', 'Bundle.entry[6].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system', 'retired UK Core code system'],
  ],
  'REFRESP01-response-ED-to-111-safeguarding-DNA.xml': [
    ['value', 'Bundle.entry[5].resource.identifier[0].value', 'fails the Modulus 11 check'],
    ['code-invalid', 'Bundle.entry[5].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system', 'retired UK Core code system'],
    ['code-invalid', 'Bundle.entry[14].resource.category[0].coding[0]', 'ValueSet-RARecord-AdjustmentCategories-1|personalisation'],
  ],
  'SERVREQ01-servicerequest-update-revoked.xml': [
    ['value', 'Bundle.entry[2].resource.identifier[0].value', 'fails the Modulus 11 check'],
    ['code-invalid', 'Bundle.entry[2].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system', 'retired UK Core code system'],
    ['required', 'Bundle.entry[1].resource.authoredOn', 'authoredOn needs at least 1 value'],
  ],
};

describe('BaRS samples', () => {
  const fixture = useProcessor();

  const { send } = fixture;
  const outcomeOf = (b: Bundle) => b.entry!.find((e) => e.resource?.resourceType === 'OperationOutcome')!.resource as OperationOutcome;

  it('the NHS number of the samples really fails Modulus 11, and the repair passes', () => {
    expect(isValidNhsNumber(PUBLISHED_NHS_NUMBER)).toBe(false);
    expect(isValidNhsNumber(REPAIRED_NHS_NUMBER)).toBe(true);
  });

  // in order: SERVREQ01 cancels the referral REFREQ01 made under the same fullUrl
  for (const { file, dosId, useContext } of MESSAGES) {
    it(`${file} as published: accepted, each of its defects named as a warning`, async () => {
      const res = await send(sample(file), dosId, useContext);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const oo = outcomeOf(res.body as Bundle);
      expect(oo.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
      for (const [code, expression, phrase] of DEFECTS[file]) {
        const warning = oo.issue.find((i) => i.severity === 'warning' && i.expression?.[0] === expression);
        expect(warning, `${file}: ${expression}`).toMatchObject({ code });
        expect(warning!.diagnostics).toContain(phrase);
      }
      // the BaRS validation profile's category correction: the use-case coding beside the request type is no defect
      expect(oo.issue.filter((i) => i.expression?.[0]?.includes('.category[0].coding[1]'))).toEqual([]);
    });
  }

  it('a published referral with an NHS number failing Modulus 11: the triage Task names the NHS number gap', async () => {
    const res = await send({ ...sample('REFREQ03-referral-GP-to-community-pharmacy.xml'), id: guid() }, SAMPLE_DOS_ID, 'a5t1|referral|servicerequest-request|new');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const task = (res.body as Bundle).entry!.map((e) => e.resource!).find((r): r is Task => r.resourceType === 'Task' && r.code?.coding?.[0]?.code === 'triage');
    expect(task).toBeDefined();
    expect(task!.input!.flatMap((i) => i.valueCodeableConcept?.coding ?? []).map((c) => c.code)).toContain('nhs-number');
  });

  it('a published sample addressed to another DoS service: 400 naming the service, nothing stored', async () => {
    const before = await fixture.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM resource");
    const res = await send(sample('REFREQ01-referral-111-to-ED.xml'), FRONT_DOOR_DOS, 'a1t1|referral|servicerequest-request|new');
    expect(res.status).toBe(400);
    const issue = (res.body as OperationOutcome).issue[0];
    expect(issue).toMatchObject({ code: 'invariant', expression: ['Bundle.entry[0].resource.destination'] });
    expect(issue.diagnostics).toContain(`dos-service-id|${FRONT_DOOR_DOS}`);
    expect(issue.diagnostics).toContain(`dos-service-id|${SAMPLE_DOS_ID}`);
    expect(await fixture.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM resource")).toEqual(before);
  });

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

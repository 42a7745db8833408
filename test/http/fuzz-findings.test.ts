import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJsonHeader } from '../../src/messaging/headers.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** Regressions for what `npm run fuzz` (fuzz/run.ts) found; each was a 500. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** Valid BaRS headers for a referral to the front door (the request id is each test's own). */
const barsHeaders = () => ({
  'NHSD-Target-Identifier': encodeJsonHeader({ system: 'https://fhir.nhs.uk/Id/dos-service-id', value: '2000072001' }),
  'NHSD-Requesting-Software': encodeJsonHeader({ resourceType: 'Device', identifier: [{ system: 'https://consumersupplier.com/Id/device-identifier', value: 'GP-SYS-1' }] }),
  'NHSD-End-User-Organisation': encodeJsonHeader({ resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83627' }] }),
  'use-context': 'a5t1|referral|servicerequest-request|new',
});

describe('found by the fuzz suite', () => {
  it('an empty history is a Bundle without entry, in JSON and in XML (the XML writer refused the empty array: 500)', async () => {
    const json = await t.fhir('GET', 'MessageHeader/_history');
    expect(json.status).toBe(200);
    expect(await json.json()).not.toHaveProperty('entry');
    const xml = await t.fhir('GET', 'MessageHeader/_history', undefined, { Accept: 'application/fhir+xml' });
    expect(xml.status).toBe(200);
    expect(await xml.text()).toMatch(/^<Bundle xmlns="http:\/\/hl7.org\/fhir"><type value="history"\/>/);
  });

  it('a message whose Bundle meta.profile is an object, not a list, is 400 (it was a 500)', async () => {
    const message = JSON.parse(readFileSync(new URL('../../docs/examples/bars-referral.json', import.meta.url), 'utf8'));
    message.id = '3f1c9e1a-7d2b-4c55-9a61-2b8f0d4e6a99';
    message.meta.profile = {};
    const res = await t.fhir('POST', '$process-message', message, { ...barsHeaders(), 'X-Request-ID': '3f1c9e1a-7d2b-4c55-9a61-2b8f0d4e6a12' });
    expect(res.status).toBe(400);
  });

  it("a referral for a person already known is answered with what the sender sent, not the stored record (it disclosed others' data to any sender)", async () => {
    const nhsNumber = '9434765919';
    await t.store.update({ resourceType: 'Patient', id: 'known-person', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }], name: [{ family: 'Storedname' }], address: [{ line: ['1 Secret Street'] }] });
    const message = JSON.parse(readFileSync(new URL('../../docs/examples/bars-referral.json', import.meta.url), 'utf8'));
    for (const e of message.entry) if (e.resource.resourceType === 'Patient') e.resource.identifier[0].value = nhsNumber;
    const res = await t.fhir('POST', '$process-message', message, { ...barsHeaders(), 'X-Request-ID': '3f1c9e1a-7d2b-4c55-9a61-2b8f0d4e6a11' });
    expect(res.status).toBe(200);
    const answer = await res.text();
    // matched: the answer names the person's id, with the sender's own copy of them
    expect(answer).toContain('Patient/known-person');
    expect(answer).toContain('Smith');
    expect(answer).not.toContain('Storedname');
    expect(answer).not.toContain('Secret Street');
  });

  it('a NUL in a path segment (an id, a version) is 400, not 500 (PostgreSQL refuses U+0000 in text)', async () => {
    await t.store.update({ resourceType: 'Patient', id: 'nul-probe' });
    for (const path of ['Patient/nul-probe/_history/%00', 'Patient/a%00b', 'Patient/a%00b/_history', 'Pati%00ent']) {
      const res = await t.fhir('GET', path);
      expect(res.status, path).toBe(400);
    }
  });

  it('a reference search by :identifier with an empty value is ignored like any empty value (it was a 500: an empty SQL list)', async () => {
    for (const path of ['Observation?patient:identifier=', 'Observation?subject:identifier=&status=final']) {
      const res = await t.fhir('GET', path);
      expect(res.status, path).toBe(200);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

/** Regressions for what `npm run fuzz` (fuzz/run.ts) found; each was a 500. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('found by the fuzz suite', () => {
  it('an empty history is a Bundle without entry, in JSON and in XML (the XML writer refused the empty array: 500)', async () => {
    const json = await t.fhir('GET', 'MessageHeader/_history');
    expect(json.status).toBe(200);
    expect(await json.json()).not.toHaveProperty('entry');
    const xml = await t.fhir('GET', 'MessageHeader/_history', undefined, { Accept: 'application/fhir+xml' });
    expect(xml.status).toBe(200);
    expect(await xml.text()).toMatch(/^<Bundle xmlns="http:\/\/hl7.org\/fhir"><type value="history"\/>/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

/** Issue 13, hostile input: arrays, nesting and strings are bounded, for JSON and XML alike. */
const limits = { maxDepth: 12, maxArrayItems: 20, maxStringLength: 2048 };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(undefined, { inputLimits: limits, maxBundleEntries: 20 });
});
afterAll(() => t.close());

interface Outcome {
  resourceType: string;
  issue: { code: string; diagnostics: string; expression?: string[] }[];
}

const XML = 'application/fhir+xml';
const postXml = (path: string, xml: string) => t.fhir('POST', path, xml, { 'Content-Type': XML });

async function refused(res: Response, status: number, expression: string, code = 'too-costly'): Promise<Outcome> {
  expect(res.status).toBe(status);
  const oo = (await res.json()) as Outcome;
  expect(oo.resourceType).toBe('OperationOutcome');
  expect(oo.issue[0].code).toBe(code);
  expect(oo.issue[0].expression).toEqual([expression]);
  return oo;
}

async function countFamily(family: string): Promise<number> {
  const res = await t.fhir('GET', `Patient?family=${family}&_summary=count`);
  return ((await res.json()) as { total: number }).total;
}

describe('bounds on a request body, JSON and XML alike', () => {
  it('refuses an array over MAX_ARRAY_ITEMS with 413 at its path, and stores nothing', async () => {
    const given = Array.from({ length: 21 }, (_, i) => `G${i}`);
    await refused(await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Manyarray', given }] }), 413, 'Patient.name[0].given');
    const xml = `<Patient xmlns="http://hl7.org/fhir"><name><family value="Manyarray"/>${given.map((g) => `<given value="${g}"/>`).join('')}</name></Patient>`;
    await refused(await postXml('Patient', xml), 413, 'Patient.name[0].given');
    expect(await countFamily('Manyarray')).toBe(0);
    // one fewer is fine
    expect((await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Manyarray', given: given.slice(1) }] })).status).toBe(201);
  });

  it('refuses a string over MAX_STRING_LENGTH with 413 at its path, also inside a Bundle entry', async () => {
    const long = 'x'.repeat(limits.maxStringLength + 1);
    await refused(await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: long }] }), 413, 'Patient.name[0].family');
    await refused(await postXml('Patient', `<Patient xmlns="http://hl7.org/fhir"><name><family value="${long}"/></name></Patient>`), 413, 'Patient.name[0].family');
    const observation = (text: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'mood' }, note: [{ text }] });
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [0, 1, 2, 3].map((i) => ({ resource: observation(i === 3 ? long : 'fine'), request: { method: 'POST', url: 'Observation' } })),
    };
    await refused(await t.fhir('POST', '', bundle), 413, 'Bundle.entry[3].resource.note[0].text');
  });

  it('lets base64Binary data be as long as MAX_BODY_BYTES allows', async () => {
    const data = Buffer.alloc(100 * 1024, 7).toString('base64');
    const res = await t.fhir('POST', 'Binary', { resourceType: 'Binary', contentType: 'application/pdf', data });
    expect(res.status).toBe(201);
  });

  it('refuses nesting over MAX_NESTING_DEPTH with 413, JSON and XML, without overflowing any stack', async () => {
    const nest = (levels: number): unknown => (levels === 0 ? [] : [{ url: 'u', extension: nest(levels - 1) }]);
    const at = `Patient${'.extension[0]'.repeat(12)}.extension`;
    const json = await refused(await t.fhir('POST', 'Patient', { resourceType: 'Patient', extension: nest(20) }), 413, at);
    expect(json.issue[0].diagnostics).toMatch(/is nested 13 levels deep; at most 12 are accepted$/);
    const xml = `<Patient xmlns="http://hl7.org/fhir">${'<extension url="u">'.repeat(20)}${'</extension>'.repeat(20)}</Patient>`;
    // the same answer at the same path: both are checked over the parsed JSON form
    const xmlOutcome = await refused(await postXml('Patient', xml), 413, at);
    expect(xmlOutcome.issue[0].diagnostics).toMatch(/is nested 13 levels deep; at most 12 are accepted$/);
    // bombs far past the limit: the XML reader stops at its own (looser) bound, JSON.parse and the check are iterative
    const jsonBomb = `{"resourceType":"Patient","extension":${'[{"url":"u","extension":'.repeat(20_000)}[]${'}]'.repeat(20_000)}}`;
    expect((await t.fhir('POST', 'Patient', jsonBomb)).status).toBe(413);
    const xmlBomb = `<Patient xmlns="http://hl7.org/fhir">${'<extension url="u">'.repeat(10_000)}${'</extension>'.repeat(10_000)}</Patient>`;
    expect((await postXml('Patient', xmlBomb)).status).toBe(413);
  });

  it('bounds a JSON Patch body the same way', async () => {
    const created = await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Patchable' }] });
    const { id } = (await created.json()) as { id: string };
    const patch = [{ op: 'replace', path: '/name/0/family', value: 'y'.repeat(limits.maxStringLength + 1) }];
    await refused(await t.fhir('PATCH', `Patient/${id}`, patch, { 'Content-Type': 'application/json-patch+json' }), 413, '[0].value');
  });

  it('refuses a NUL character in a string with 400 at its path, not a database error', async () => {
    const res = await t.fhir('POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"a\\u0000b"}]}');
    await refused(res, 400, 'Patient.name[0].family', 'invalid');
  });
});

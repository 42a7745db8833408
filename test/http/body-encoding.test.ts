import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE, startTestApp, type TestApp } from '../support/app.js';

/**
 * Issue 13, hostile-input probe item 7: invalid UTF-8 was stored as U+FFFD, `charset=utf-16` was
 * ignored, and with duplicate JSON keys the last one won.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const post = (path: string, body: string | Uint8Array, contentType = 'application/fhir+json') =>
  t.app.request(`${BASE}/${path}`, { method: 'POST', headers: { 'Content-Type': contentType }, body });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const issueOf = async (res: Response): Promise<any> => (await json(res)).issue[0];

const countOf = async (type: string): Promise<number> => (await json(await t.fhir('GET', `${type}?_summary=count`))).total;

describe('request body encoding', () => {
  it('refuses a body that is not UTF-8 (400) and stores nothing', async () => {
    const before = await countOf('Patient');
    const text = new TextEncoder().encode('{"resourceType":"Patient","name":[{"family":"Zo?"}]}');
    text[text.indexOf('?'.charCodeAt(0))] = 0xeb; // ë in Latin-1: not UTF-8
    const res = await post('Patient', text);
    expect(res.status).toBe(400);
    const issue = await issueOf(res);
    expect(issue.diagnostics).toMatch(/not valid UTF-8 \(at byte 47\)/);
    expect(await countOf('Patient')).toBe(before);
  });

  it('refuses a truncated UTF-8 sequence at the end of the body', async () => {
    const bytes = Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"Zo"}]}'), Buffer.from([0xc3])]);
    expect((await post('Patient', bytes)).status).toBe(400);
  });

  it.each(['utf-16', 'UTF-16LE', 'iso-8859-1', '"windows-1252"'])('refuses charset=%s with 415 naming utf-8', async (charset) => {
    const res = await post('Patient', JSON.stringify({ resourceType: 'Patient' }), `application/fhir+json; charset=${charset}`);
    expect(res.status).toBe(415);
    const issue = await issueOf(res);
    expect(issue.code).toBe('not-supported');
    expect(issue.diagnostics).toMatch(/UTF-8 only \(send charset=utf-8/);
  });

  it.each(['application/fhir+json; charset=utf-8', 'application/fhir+json;charset=UTF-8', 'application/fhir+json; charset="utf-8"', 'application/fhir+json'])(
    'accepts UTF-8 declared or not (%s) and keeps the text as sent',
    async (contentType) => {
      const res = await post('Patient', JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Zoë 🧠' }] }), contentType);
      expect(res.status).toBe(201);
      expect((await json(res)).name[0].family).toBe('Zoë 🧠');
    },
  );

  it('applies to XML and form bodies too', async () => {
    const xml = await post('Patient', '<Patient xmlns="http://hl7.org/fhir"/>', 'application/fhir+xml; charset=utf-16');
    expect(xml.status).toBe(415);
    const form = await post('Patient/_search', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3d, 0xff]), 'application/x-www-form-urlencoded');
    expect(form.status).toBe(400);
  });
});

describe('duplicate JSON keys', () => {
  it('refuses a second resourceType rather than storing a Patient (expression resourceType)', async () => {
    const before = await countOf('Patient');
    const res = await post('Observation', '{"resourceType":"Observation","resourceType":"Patient"}');
    expect(res.status).toBe(400);
    const issue = await issueOf(res);
    expect(issue.code).toBe('structure');
    expect(issue.expression).toEqual(['resourceType']);
    expect(await countOf('Patient')).toBe(before);
  });

  it('names the path of a nested duplicate', async () => {
    const res = await post('Patient', '{"resourceType":"Patient","name":[{"family":"A","family":"B"}]}');
    expect(res.status).toBe(400);
    expect((await issueOf(res)).expression).toEqual(['Patient.name[0].family']);
  });

  it('finds a duplicate even when a string value looks like a member name', async () => {
    // the escaped quote and colon in the text, and a value starting with a colon, are not members
    const body = '{"resourceType":"Patient","name":[{"text":"say \\"x\\": y","family":": z"}],"gender":"male","gender":"female"}';
    const res = await post('Patient', body);
    expect(res.status).toBe(400);
    expect((await issueOf(res)).expression).toEqual(['Patient.gender']);
  });

  it('is not fooled by a member name that ends in an escaped backslash', async () => {
    const body = '{"resourceType":"Patient","id":"p","extension":[{"url":"u\\\\","valueString":"v"}],"active":true,"active":false}';
    const res = await post('Patient', body);
    expect(res.status).toBe(400);
    expect((await issueOf(res)).expression).toEqual(['Patient.active']);
  });

  it('refuses duplicates in a Bundle entry and in a JSON Patch', async () => {
    const bundle = '{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","active":true,"active":false}}]}';
    const res = await post('', bundle);
    expect(res.status).toBe(400);
    expect((await issueOf(res)).expression).toEqual(['Bundle.entry[0].resource.active']);
    const created = await json(await post('Patient', JSON.stringify({ resourceType: 'Patient' })));
    const patch = await t.app.request(`${BASE}/Patient/${created.id}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json-patch+json' },
      body: '[{"op":"add","path":"/active","value":true,"op":"remove"}]',
    });
    expect(patch.status).toBe(400);
    expect((await issueOf(patch)).expression).toEqual(['[0].op']);
  });

  it('accepts the same name in different objects, and strings that look like members', async () => {
    const body = '{"resourceType":"Patient","name":[{"family":"A"},{"family":"B","text":"\\"family\\": twice"}],"gender":"other"}';
    expect((await post('Patient', body)).status).toBe(201);
  });
});

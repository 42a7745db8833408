import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE, startTestApp, TEST_HOSTS, type TestApp } from '../support/app.js';

/**
 * Issue 13, hostile input: no response tells a client how Stepwise is built. A battery of
 * malformed, oversized and odd requests; every answer is an OperationOutcome (or an ordinary
 * response) with no stack trace, SQL, file path or library name in it, and none is a 500.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** What only the server's insides could have written: the battery's inputs contain none of it. */
const LEAKS: [string, RegExp][] = [
  ['a stack frame', /\bat (?:\S+ \()?(?:file:|node:|\/|[A-Za-z]:\\)/],
  ['node_modules', /node_modules/],
  ['a file path', /\/work\/|\/home\/|\/usr\/|\/tmp\//],
  ['a source file', /\.(?:ts|js|mjs|cjs):\d/],
  ['SQL', /\b(?:SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|jsonb|relation "|syntax error at|violates|duplicate key)\b/i],
  ['PostgreSQL', /\b(?:pg|postgres|postgresql|pglite)\b/i],
  ['a library', /medplum|\bzod\b|fast-xml-parser|fxp|hono|undici/i],
  ['a JavaScript error', /\b(?:SyntaxError|TypeError|RangeError|ReferenceError|URIError)\b|Unexpected token|" is not valid JSON|Cannot read properties|is not a function|undefined \(reading/],
];

interface Probe {
  name: string;
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

const json = { 'Content-Type': 'application/fhir+json' };
const xml = { 'Content-Type': 'application/fhir+xml' };
const patch = { 'Content-Type': 'application/json-patch+json' };
const deepJson = `{"resourceType":"Patient","extension":${'[{"url":"u","extension":'.repeat(5000)}[]${'}]'.repeat(5000)}}`;
const deepXml = `<Patient xmlns="http://hl7.org/fhir">${'<extension url="u">'.repeat(5000)}${'</extension>'.repeat(5000)}</Patient>`;
const bundle = (entry: unknown) => JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry });

const probes: Probe[] = [
  // malformed JSON
  { name: 'truncated JSON', method: 'POST', path: 'Patient', body: '{"resourceType":', headers: json },
  { name: 'trailing comma', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient",}', headers: json },
  { name: 'SQL as a body', method: 'POST', path: 'Patient', body: "DROP TABLE resource; --", headers: json },
  { name: 'two documents', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient"}{"x":1}', headers: json },
  { name: 'a JSON string', method: 'POST', path: 'Patient', body: '"Patient"', headers: json },
  { name: 'a JSON array', method: 'PUT', path: 'Patient/p1', body: '[{"resourceType":"Patient"}]', headers: json },
  { name: 'null', method: 'POST', path: 'Patient', body: 'null', headers: json },
  { name: 'a number for resourceType', method: 'POST', path: 'Patient', body: '{"resourceType":5}', headers: json },
  { name: 'an unknown resourceType', method: 'POST', path: 'Patient', body: '{"resourceType":"Nonsense"}', headers: json },
  { name: 'wrong types everywhere', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient","active":"yes","name":{"family":[1]},"birthDate":12}', headers: json },
  { name: 'huge numbers', method: 'POST', path: 'Observation', body: '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e400}}', headers: json },
  { name: 'long digits', method: 'POST', path: 'Observation', body: '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueInteger":123456789012345678901234567890}', headers: json },
  { name: 'a NUL in a string', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient","name":[{"family":"a\\u0000b"}]}', headers: json },
  { name: 'a lone surrogate', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient","name":[{"family":"\\ud800"}]}', headers: json },
  { name: 'unicode', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient","name":[{"family":"Zoë \u202e🧠 ﷽"}]}', headers: json },
  { name: '__proto__ in JSON', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient","__proto__":{"polluted":true}}', headers: json },
  { name: 'deep JSON', method: 'POST', path: 'Patient', body: deepJson, headers: json },
  // malformed XML
  { name: 'unclosed XML', method: 'POST', path: 'Patient', body: '<Patient xmlns="http://hl7.org/fhir"><name>', headers: xml },
  { name: 'XXE', method: 'POST', path: 'Patient', body: '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><id value="&e;"/></Patient>', headers: xml },
  { name: 'an XML element __proto__', method: 'POST', path: 'Patient', body: '<Patient xmlns="http://hl7.org/fhir"><__proto__ value="x"/></Patient>', headers: xml },
  { name: 'an XML element constructor', method: 'POST', path: 'Patient', body: '<Patient xmlns="http://hl7.org/fhir"><constructor><x/></constructor></Patient>', headers: xml },
  { name: 'XML without namespace', method: 'POST', path: 'Patient', body: '<Patient><active value="true"/></Patient>', headers: xml },
  { name: 'XML text content', method: 'POST', path: 'Patient', body: '<Patient xmlns="http://hl7.org/fhir">text</Patient>', headers: xml },
  { name: 'deep XML', method: 'POST', path: 'Patient', body: deepXml, headers: xml },
  { name: 'JSON sent as XML', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient"}', headers: xml },
  // wrong content types
  { name: 'text/plain', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient"}', headers: { 'Content-Type': 'text/plain' } },
  { name: 'multipart', method: 'POST', path: 'Patient', body: '--x\r\n\r\nhi\r\n--x--', headers: { 'Content-Type': 'multipart/form-data; boundary=x' } },
  { name: 'utf-16', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient"}', headers: { 'Content-Type': 'application/fhir+json; charset=utf-16' } },
  { name: 'no content type', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient"}' },
  { name: 'a form to create', method: 'POST', path: 'Patient', body: 'a=b', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
  // searches
  { name: 'SQL-ish string search', method: 'GET', path: "Patient?name=' OR 1=1;--" },
  { name: 'SQL-ish _id', method: 'GET', path: 'Patient?_id=1;DROP TABLE resource' },
  { name: 'SQL-ish date', method: 'GET', path: "Patient?birthdate=gt2020'--" },
  { name: 'SQL-ish sort', method: 'GET', path: 'Patient?_sort=name;DROP' },
  { name: 'a negative count', method: 'GET', path: 'Patient?_count=-1' },
  { name: 'a huge count', method: 'GET', path: 'Patient?_count=99999999999999999999' },
  { name: 'a huge quantity', method: 'GET', path: 'Observation?value-quantity=1e999' },
  { name: 'a bad date', method: 'GET', path: 'Patient?birthdate=2020-13-45T99:99' },
  { name: 'an unknown parameter', method: 'GET', path: 'Patient?nonsense=1', headers: { Prefer: 'handling=strict' } },
  { name: 'a bad chain', method: 'GET', path: 'Task?owner.partof.nonsense=x' },
  { name: 'a bad _include', method: 'GET', path: 'Patient?_include=Nope:nope' },
  { name: 'a crafted cursor', method: 'GET', path: 'Patient?_cursor=99999999999999999999999999' },
  { name: 'a garbage cursor', method: 'GET', path: 'Patient?_cursor=%7B%22a%22%3A1%7D' },
  { name: 'a NUL in a search', method: 'GET', path: 'Patient?name=a%00b' },
  { name: 'a NUL in a token search', method: 'GET', path: 'Patient?identifier=a%00|b' },
  { name: 'malformed percent-encoding in a search', method: 'GET', path: 'Patient?name=%ZZ' },
  { name: 'a bad _format', method: 'GET', path: 'Patient?_format=application/pdf' },
  { name: 'a bad _summary', method: 'GET', path: 'Patient?_summary=everything' },
  { name: 'an unknown type', method: 'GET', path: 'Nonsense?x=1' },
  // ids and paths
  { name: 'a path traversal id', method: 'GET', path: 'Patient/..%2F..%2Fetc%2Fpasswd' },
  { name: 'an absurd id', method: 'GET', path: `Patient/${'a'.repeat(5000)}` },
  { name: 'malformed percent-encoding in the path', method: 'GET', path: 'Patient/%ZZ' },
  { name: 'a NUL in the path', method: 'GET', path: 'Patient/%00' },
  { name: 'a bad version', method: 'GET', path: 'Patient/p1/_history/-1' },
  { name: 'a huge version', method: 'GET', path: 'Patient/p1/_history/99999999999999999999999' },
  { name: 'a bad If-Match', method: 'PUT', path: 'Patient/p1', body: '{"resourceType":"Patient","id":"p1"}', headers: { ...json, 'If-Match': 'W/"x\'; DROP"' } },
  { name: 'a bad If-None-Exist', method: 'POST', path: 'Patient', body: '{"resourceType":"Patient"}', headers: { ...json, 'If-None-Exist': '%ZZ=1' } },
  { name: 'a mismatched id', method: 'PUT', path: 'Patient/a', body: '{"resourceType":"Patient","id":"b"}', headers: json },
  // JSON Patch
  { name: 'a patch path without a slash', method: 'PATCH', path: 'Patient/p1', body: '[{"op":"replace","path":"active","value":true}]', headers: patch },
  { name: 'a patch into __proto__', method: 'PATCH', path: 'Patient/p1', body: '[{"op":"add","path":"/__proto__/x","value":1}]', headers: patch },
  { name: 'a patch removing the root', method: 'PATCH', path: 'Patient/p1', body: '[{"op":"remove","path":""}]', headers: patch },
  { name: 'a copy without from', method: 'PATCH', path: 'Patient/p1', body: '[{"op":"copy","path":"/name"}]', headers: patch },
  { name: 'a patch that is an object', method: 'PATCH', path: 'Patient/p1', body: '{"op":"add"}', headers: patch },
  // Bundles
  { name: 'entry [null]', method: 'POST', path: '', body: bundle([null]), headers: json },
  { name: 'entry {}', method: 'POST', path: '', body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: {} }), headers: json },
  { name: 'request.url a number', method: 'POST', path: '', body: bundle([{ request: { method: 'GET', url: 5 } }]), headers: json },
  { name: 'ifMatch an object', method: 'POST', path: '', body: bundle([{ resource: { resourceType: 'Patient' }, request: { method: 'PUT', url: 'Patient/p1', ifMatch: {} } }]), headers: json },
  { name: 'a bad percent-encoding in an entry url', method: 'POST', path: '', body: bundle([{ request: { method: 'GET', url: 'Patient/%ZZ' } }]), headers: json },
  { name: 'an unknown Bundle type', method: 'POST', path: '', body: JSON.stringify({ resourceType: 'Bundle', type: 'nonsense' }), headers: json },
  // messaging
  { name: 'a message with focus [null]', method: 'POST', path: '$process-message', body: JSON.stringify({ resourceType: 'Bundle', type: 'message', entry: [{ resource: { resourceType: 'MessageHeader', focus: [null] } }] }), headers: json },
  { name: 'a message with focus "x"', method: 'POST', path: '$process-message', body: JSON.stringify({ resourceType: 'Bundle', type: 'message', entry: [{ resource: { resourceType: 'MessageHeader', focus: 'x' } }] }), headers: json },
  { name: 'a message that is no Bundle', method: 'POST', path: '$process-message', body: '{"resourceType":"Patient"}', headers: json },
  // methods
  { name: 'HEAD', method: 'HEAD', path: 'Patient' },
  { name: 'OPTIONS', method: 'OPTIONS', path: 'Patient' },
  { name: 'an unknown method', method: 'PROPFIND', path: 'Patient' },
  { name: 'TRACE-like', method: 'FOO', path: '' },
];

async function send(probe: Probe): Promise<Response> {
  return t.app.request(`${BASE}/${probe.path}`, { method: probe.method, headers: probe.headers, body: probe.body });
}

describe('hostile requests', () => {
  it.each(probes.map((p) => [p.name, p] as const))('%s: no 500, and nothing of the insides in the answer', async (_name, probe) => {
    const res = await send(probe);
    const text = await res.text();
    for (const [what, pattern] of LEAKS) expect(text, `${what} in ${res.status} ${text.slice(0, 300)}`).not.toMatch(pattern);
    expect(res.status, text.slice(0, 300)).toBeLessThan(500);
    if (res.status >= 400 && probe.method !== 'HEAD') expect(JSON.parse(text).resourceType).toBe('OperationOutcome');
  });

  it('answers an unknown error with the generic message only', async () => {
    // a store that fails the way a database would: with SQL in its message
    const failing = Object.create(t.store, {
      search: { value: () => Promise.reject(new Error('relation "resource" does not exist at SELECT * FROM resource WHERE x (pg /work/main/src/store/search.ts:12)')) },
    });
    const { createApp } = await import('../../src/app.js');
    const { pino } = await import('pino');
    const { serverValidator } = await import('../../src/fhir/server-validator.js');
    const { createMessaging } = await import('../../src/messaging/index.js');
    const app = createApp({ store: failing, messaging: createMessaging(t.t.db, t.clock), validator: serverValidator(), logger: pino({ level: 'silent' }), maxBodyBytes: 1024 * 1024, maxBundleEntries: 10, allowedHosts: TEST_HOSTS });
    const res = await app.request(`${BASE}/Patient?name=x`);
    expect(res.status).toBe(500);
    const oo = (await res.json()) as { issue: { code: string; diagnostics: string }[] };
    expect(oo.issue).toEqual([expect.objectContaining({ code: 'exception', diagnostics: 'An internal error occurred; it has been logged with the request id' })]);
  });
});

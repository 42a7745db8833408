import type { CapabilityStatement } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFhirXml } from '../../src/fhir/xml/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const XML = 'application/fhir+xml';
const patientXml = (family: string) => `<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <identifier><system value="https://fhir.nhs.uk/Id/nhs-number"/><value value="9000000009"/></identifier>
  <name><family value="${family}"/><given value="Zoë"/></name>
  <birthDate value="1980-05-12"/>
</Patient>`;

async function postXml(path: string, body: string, headers: Record<string, string> = {}) {
  return t.fhir('POST', path, body, { 'Content-Type': XML, ...headers });
}

describe('FHIR XML on the REST API', () => {
  it('creates from XML and answers in XML when asked by Accept', async () => {
    const res = await postXml('Patient', patientXml('Ó Briain'), { Accept: XML });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/fhir+xml; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('<Patient xmlns="http://hl7.org/fhir">');
    expect(text).toContain('<family value="Ó Briain"/>');
    const id = /<id value="([^"]+)"\/>/.exec(text)![1];
    const json: any = await (await t.fhir('GET', `Patient/${id}`)).json();
    expect(json.name[0]).toEqual({ family: 'Ó Briain', given: ['Zoë'] });
  });

  it('lets _format win over Accept, for reads, searches and history', async () => {
    const created: any = await (await postXml('Patient', patientXml('Format'))).json();
    const read = await t.fhir('GET', `Patient/${created.id}?_format=xml`, undefined, { Accept: 'application/fhir+json' });
    expect(read.headers.get('content-type')).toContain('application/fhir+xml');
    const search = await (await t.fhir('GET', 'Patient?family=format&_format=application/fhir+xml')).text();
    expect(search).toMatch(/^<Bundle xmlns="http:\/\/hl7.org\/fhir">.*<type value="searchset"\/>/s);
    expect(search).toContain('<resource><Patient>');
    const history = await (await t.fhir('GET', `Patient/${created.id}/_history?_format=xml`)).text();
    expect(history).toContain('<type value="history"/>');
    const json = await t.fhir('GET', `Patient/${created.id}?_format=json`, undefined, { Accept: XML });
    expect(json.headers.get('content-type')).toContain('application/fhir+json');
  });

  it('takes a transaction in XML and answers it in XML', async () => {
    const bundle = `<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/>
      <entry><fullUrl value="urn:uuid:2d1f6b8c-98a1-4b9e-8f0e-3f4b5c6d7e8f"/><resource>${patientXml('Transacted').replace('<?xml version="1.0" encoding="UTF-8"?>', '')}</resource>
        <request><method value="POST"/><url value="Patient"/></request></entry>
      <entry><resource><Task xmlns="http://hl7.org/fhir"><status value="requested"/><intent value="order"/><for><reference value="urn:uuid:2d1f6b8c-98a1-4b9e-8f0e-3f4b5c6d7e8f"/></for></Task></resource>
        <request><method value="POST"/><url value="Task"/></request></entry>
    </Bundle>`;
    const res = await postXml('', bundle, { Accept: XML });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('<type value="transaction-response"/>');
    expect(text.match(/<status value="201 Created"\/>/g)).toHaveLength(2);
    expect(text).toMatch(/<for><reference value="Patient\/[0-9a-f-]{36}"\/><\/for>/);
  });

  it('answers errors as XML OperationOutcomes when XML is asked for', async () => {
    const res = await t.fhir('GET', 'Patient/unknown-id', undefined, { Accept: XML });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/fhir+xml');
    expect(await res.text()).toContain('<OperationOutcome xmlns="http://hl7.org/fhir">');
  });

  it('keeps decimal precision through storage, in both formats', async () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'lithium level' }, valueQuantity: { value: 0.50, unit: 'mmol/L' } };
    const body = JSON.stringify(obs).replace('"value":0.5', '"value":0.50');
    const created = await t.fhir('POST', 'Observation', body);
    expect(await created.clone().text()).toContain('"value":0.50');
    const id = ((await created.json()) as { id: string }).id;
    expect(await (await t.fhir('GET', `Observation/${id}`)).text()).toContain('"value":0.50');
    expect(await (await t.fhir('GET', `Observation/${id}?_format=xml`)).text()).toContain('<value value="0.50"/>');
    const fromXml = await postXml(
      'Observation',
      '<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="x"/></code><valueQuantity><value value="1.250"/></valueQuantity></Observation>',
    );
    expect(await fromXml.text()).toContain('"value":1.250');
  });

  it('refuses DOCTYPE, entities and processing instructions with a 400 OperationOutcome', async () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE Patient [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><name><family value="&xxe;"/></name></Patient>`;
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Patient xmlns="http://hl7.org/fhir"><name><family value="&lol2;"/></name></Patient>`;
    const pi = `<?xml version="1.0"?><?xml-stylesheet href="http://evil.example/x.xsl"?><Patient xmlns="http://hl7.org/fhir"/>`;
    for (const body of [xxe, laughs, pi]) {
      const res = await postXml('Patient', body);
      expect(res.status).toBe(400);
      const oo = (await res.json()) as { resourceType: string };
      expect(oo.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(oo)).not.toContain('root:');
    }
  });

  it('refuses malformed XML and unknown elements with 400, and a deep nesting bomb with 413 at the path', async () => {
    expect((await postXml('Patient', '<Patient xmlns="http://hl7.org/fhir"><name>')).status).toBe(400);
    const unknown = await postXml('Patient', '<Patient xmlns="http://hl7.org/fhir"><colour value="blue"/></Patient>');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('Patient.colour');
    const deep = `<Patient xmlns="http://hl7.org/fhir">${'<extension url="x">'.repeat(200)}${'</extension>'.repeat(200)}</Patient>`;
    const tooDeep = await postXml('Patient', deep);
    expect(tooDeep.status).toBe(413);
    const issue = ((await tooDeep.json()) as { issue: { code: string; expression: string[] }[] }).issue[0];
    expect(issue.code).toBe('too-costly');
    expect(issue.expression[0]).toMatch(/^Patient(\.extension){64,129}$/);
  });

  it('negotiates: 406 when nothing fits, 415 for a body type we do not take', async () => {
    expect((await t.fhir('GET', 'metadata', undefined, { Accept: 'text/csv' })).status).toBe(406);
    expect((await t.fhir('GET', 'metadata?_format=yaml')).status).toBe(406);
    expect((await t.fhir('GET', 'metadata', undefined, { Accept: 'text/csv;q=0.9, application/xml;q=0.5' })).headers.get('content-type')).toContain('xml');
    expect((await t.fhir('POST', 'Patient', patientXml('x'), { 'Content-Type': 'text/csv' })).status).toBe(415);
    expect((await t.fhir('POST', 'Patient', patientXml('Generic'), { 'Content-Type': 'application/xml' })).status).toBe(201);
  });
});

describe("the server's own output in XML", () => {
  it('writes the CapabilityStatement as valid FHIR XML, with no empty elements (Binary has no search of its own)', async () => {
    const asked: [string, Record<string, string>][] = [['metadata?_format=xml', {}], ['metadata', { Accept: XML }]];
    for (const [path, headers] of asked) {
      const res = await t.fhir('GET', path, undefined, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(XML);
      const statement = parseFhirXml(await res.text()) as CapabilityStatement;
      expect(statement.rest![0].resource!.length).toBeGreaterThan(100);
    }
  });

  it('answers a resource it cannot write with a logged 500, never a 400 that blames the client', async () => {
    const lines: string[] = [];
    const lax = await startTestApp(undefined, {
      logger: pino({ level: 'error' }, { write: (line: string) => void lines.push(line) }),
      // a stored resource that is not valid FHIR (an empty array), as a faulty write path could leave one
      validator: { validate: () => [] },
    });
    const stored = (await (await lax.fhir('POST', 'Patient', { resourceType: 'Patient', name: [] })).json()) as { id: string };
    const res = await lax.fhir('GET', `Patient/${stored.id}?_format=xml`, undefined, { 'X-Request-Id': 'req-xml-500' });
    expect(res.status).toBe(500);
    const outcome = await res.text();
    expect(outcome).toContain('<code value="exception"/>');
    expect(outcome).not.toContain('Arrays must not be empty');
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ requestId: 'req-xml-500', err: { message: expect.stringContaining('Patient.name') } });
    await lax.close();
  });
});

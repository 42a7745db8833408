import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient } from '../support/builders.js';
import { BASE, startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

export async function outcome(res: Response, status: number): Promise<OperationOutcome> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/fhir+json');
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body;
}

describe('create, read, vread', () => {
  it('creates with 201, Location, ETag and Last-Modified, ignoring a client id', async () => {
    const res = await t.fhir('POST', 'Patient', { ...patient(), id: 'mine' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Patient;
    expect(body.id).not.toBe('mine');
    expect(res.headers.get('location')).toBe(`${BASE}/Patient/${body.id}/_history/1`);
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(res.headers.get('last-modified')).toBe('Mon, 02 Mar 2026 09:00:00 GMT');
    const read = await t.fhir('GET', `Patient/${body.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(body);
  });

  it('answers 304 to If-None-Match with the current version and to If-Modified-Since after the change', async () => {
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as Patient;
    expect((await t.fhir('GET', `Patient/${p.id}`, undefined, { 'If-None-Match': 'W/"1"' })).status).toBe(304);
    expect((await t.fhir('GET', `Patient/${p.id}`, undefined, { 'If-None-Match': 'W/"7"' })).status).toBe(200);
    expect((await t.fhir('GET', `Patient/${p.id}`, undefined, { 'If-Modified-Since': 'Tue, 03 Mar 2026 00:00:00 GMT' })).status).toBe(304);
    expect((await t.fhir('GET', `Patient/${p.id}`, undefined, { 'If-Modified-Since': 'Sun, 01 Mar 2026 00:00:00 GMT' })).status).toBe(200);
  });

  it('honours Prefer: return=minimal and return=OperationOutcome', async () => {
    const minimal = await t.fhir('POST', 'Patient', patient(), { Prefer: 'return=minimal' });
    expect(minimal.status).toBe(201);
    expect(await minimal.text()).toBe('');
    expect(minimal.headers.get('location')).toMatch(/\/Patient\/.+\/_history\/1$/);
    const oo = await t.fhir('POST', 'Patient', patient(), { Prefer: 'return=OperationOutcome' });
    expect(((await oo.json()) as OperationOutcome).issue[0].severity).toBe('information');
  });

  it('vreads a version and answers 404 for an unknown one', async () => {
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as Patient;
    await t.fhir('PUT', `Patient/${p.id}`, { ...p, gender: 'male' });
    expect(((await (await t.fhir('GET', `Patient/${p.id}/_history/1`)).json()) as Patient).gender).toBeUndefined();
    expect(((await (await t.fhir('GET', `Patient/${p.id}/_history/2`)).json()) as Patient).gender).toBe('male');
    await outcome(await t.fhir('GET', `Patient/${p.id}/_history/3`), 404);
  });

  it('applies _summary and _elements to a read, marking the result SUBSETTED', async () => {
    const p = (await (await t.fhir('POST', 'Patient', patient({ gender: 'female' }))).json()) as Patient;
    const r = (await (await t.fhir('GET', `Patient/${p.id}?_elements=gender`)).json()) as Patient;
    expect(r).not.toHaveProperty('name');
    expect(r.gender).toBe('female');
    expect(r.meta?.tag?.map((x) => x.code)).toContain('SUBSETTED');
  });
});

describe('update, patch, delete', () => {
  it('updates with If-Match and refuses a stale version with 412', async () => {
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as Patient;
    const ok = await t.fhir('PUT', `Patient/${p.id}`, { ...p, gender: 'male' }, { 'If-Match': 'W/"1"' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('W/"2"');
    await outcome(await t.fhir('PUT', `Patient/${p.id}`, { ...p, gender: 'female' }, { 'If-Match': 'W/"1"' }), 412);
  });

  it('creates on PUT to a new id (201)', async () => {
    const res = await t.fhir('PUT', 'Patient/new-by-client', { ...patient(), id: 'new-by-client' });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`${BASE}/Patient/new-by-client/_history/1`);
  });

  it('patches with JSON Patch, and refuses a failing test operation with 422', async () => {
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as Patient;
    const patch = [{ op: 'add', path: '/gender', value: 'other' }];
    const res = await t.fhir('PATCH', `Patient/${p.id}`, JSON.stringify(patch), { 'Content-Type': 'application/json-patch+json' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Patient).gender).toBe('other');
    const failing = [{ op: 'test', path: '/gender', value: 'male' }];
    const oo = await outcome(await t.fhir('PATCH', `Patient/${p.id}`, JSON.stringify(failing), { 'Content-Type': 'application/json-patch+json' }), 422);
    expect(oo.issue[0].expression).toEqual(['Parameters.operation[0]']);
    await outcome(await t.fhir('PATCH', `Patient/${p.id}`, JSON.stringify(patch)), 415);
  });

  it('deletes: read is then 410, delete again is harmless, history remains', async () => {
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as Patient;
    const del = await t.fhir('DELETE', `Patient/${p.id}`);
    expect(del.status).toBe(200);
    expect(del.headers.get('etag')).toBe('W/"2"');
    await outcome(await t.fhir('GET', `Patient/${p.id}`), 410);
    expect((await t.fhir('DELETE', `Patient/${p.id}`)).status).toBe(200);
    expect((await t.fhir('GET', `Patient/${p.id}/_history`)).status).toBe(200);
  });
});

describe('bad input is an OperationOutcome with the right status and location', () => {
  it('malformed JSON is 400', async () => {
    await outcome(await t.fhir('POST', 'Patient', '{"resourceType": "Patient",'), 400);
  });

  it('a resourceType that does not match the URL is 400 at resourceType', async () => {
    const oo = await outcome(await t.fhir('POST', 'Patient', { resourceType: 'Observation' }), 400);
    expect(oo.issue[0].expression).toEqual(['Observation.resourceType']);
  });

  it('an id that does not match the URL is 400 at id; a missing id too', async () => {
    const oo = await outcome(await t.fhir('PUT', 'Patient/abc', { ...patient(), id: 'xyz' }), 400);
    expect(oo.issue[0].expression).toEqual(['Patient.id']);
    await outcome(await t.fhir('PUT', 'Patient/abc', patient()), 400);
  });

  it('a structurally invalid resource is 400 with every issue located', async () => {
    const oo = await outcome(await t.fhir('POST', 'Patient', { resourceType: 'Patient', birthDate: '12/05/1980', colour: 'blue' }), 400);
    expect(oo.issue.flatMap((i) => i.expression)).toEqual(expect.arrayContaining(['Patient.birthDate', 'Patient.colour']));
  });

  it('a body over the limit is 413', async () => {
    const big = { ...patient(), text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(300 * 1024)}</div>` } };
    await outcome(await t.fhir('POST', 'Patient', big), 413);
  });

  it('an unsupported Content-Type is 415, an unacceptable Accept is 406', async () => {
    await outcome(await t.fhir('POST', 'Patient', JSON.stringify(patient()), { 'Content-Type': 'text/plain' }), 415);
    await outcome(await t.fhir('GET', 'Patient', undefined, { Accept: 'text/csv' }), 406);
  });

  it('an unknown type is 404, a wrong method is 405, a bad id is 400', async () => {
    await outcome(await t.fhir('GET', 'Unicorn/1'), 404);
    await outcome(await t.fhir('POST', 'Patient/123'), 405);
    await outcome(await t.fhir('GET', 'Patient/' + 'x'.repeat(65)), 400);
  });

  it('an unknown error is 500, never 400: its cause is logged with the request id, not leaked', async () => {
    const lines: string[] = [];
    const broken = await startTestApp(undefined, {
      logger: pino({ level: 'error' }, { write: (line: string) => void lines.push(line) }),
      validator: {
        validate: () => {
          throw new TypeError('secret detail');
        },
      },
    });
    const oo = await outcome(await broken.fhir('POST', 'Patient', patient(), { 'X-Request-Id': 'req-500' }), 500);
    expect(JSON.stringify(oo)).not.toContain('secret detail');
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ requestId: 'req-500', err: { message: 'secret detail', type: 'TypeError' } });
    await broken.close();
  });

  it('a failed write leaves nothing behind', async () => {
    const before: any = await (await t.fhir('GET', 'Patient?_summary=count')).json();
    await outcome(await t.fhir('POST', 'Patient', { resourceType: 'Patient', gender: 'unknown-gender-code', active: 'yes' }), 400);
    const after: any = await (await t.fhir('GET', 'Patient?_summary=count')).json();
    expect(after.total).toBe(before.total);
  });
});

describe('service endpoints', () => {
  it('reports health and readiness with the database', async () => {
    expect((await t.app.request('/healthz')).status).toBe(200);
    const ready = await t.app.request('/readyz');
    expect(await ready.json()).toEqual({ status: 'ready', database: 'pglite' });
  });

  it('echoes X-Request-Id and X-Correlation-ID on errors too', async () => {
    const res = await t.fhir('GET', 'Patient/missing', undefined, { 'X-Request-Id': 'req-404', 'X-Correlation-ID': 'corr-404' });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('req-404');
    expect(res.headers.get('x-correlation-id')).toBe('corr-404');
  });

  it('echoes a request id, or makes one', async () => {
    const res = await t.fhir('GET', 'metadata', undefined, { 'X-Request-Id': 'abc-123' });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect((await t.fhir('GET', 'metadata')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

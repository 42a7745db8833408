import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient } from '../support/builders.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const create = async () => (await (await t.fhir('POST', 'Patient', patient())).json()) as Patient & { id: string };
const PATCH = { 'Content-Type': 'application/json-patch+json' };
const patchBody = JSON.stringify([{ op: 'replace', path: '/birthDate', value: '1980-05-13' }]);

/** Every write that takes If-Match, against one stored Patient at version 1. */
const writes: [string, (p: Patient & { id: string }, ifMatch: string) => Promise<Response>][] = [
  ['PUT', (p, ifMatch) => t.fhir('PUT', `Patient/${p.id}`, { ...p, gender: 'male' }, { 'If-Match': ifMatch })],
  ['PATCH', (p, ifMatch) => t.fhir('PATCH', `Patient/${p.id}`, patchBody, { ...PATCH, 'If-Match': ifMatch })],
  ['DELETE', (p, ifMatch) => t.fhir('DELETE', `Patient/${p.id}`, undefined, { 'If-Match': ifMatch })],
  ['conditional PUT', (p, ifMatch) => t.fhir('PUT', `Patient?_id=${p.id}`, { ...p, gender: 'male' }, { 'If-Match': ifMatch })],
];

describe('If-Match (http://hl7.org/fhir/R4/http.html#concurrency)', () => {
  it.each(writes)('%s: a well-formed entity tag that does not match is 412, whatever it names', async (_, write) => {
    for (const tag of ['W/"7"', 'W/"stale-7"', '"abc"', 'W/""', 'W/"1234567890"']) {
      const p = await create();
      const res = await write(p, tag);
      expect({ tag, status: res.status }).toEqual({ tag, status: 412 });
      expect(((await res.json()) as OperationOutcome).issue[0].code).toBe('conflict');
      expect((await t.fhir('GET', `Patient/${p.id}`)).headers.get('etag')).toBe('W/"1"');
    }
  });

  it.each(writes)('%s: a header that is not an entity tag at all is 400, naming If-Match', async (_, write) => {
    for (const notATag of ['stale-7', 'W/stale', '"unterminated', 'W/"a b"']) {
      const res = await write(await create(), notATag);
      expect({ notATag, status: res.status }).toEqual({ notATag, status: 400 });
      expect(((await res.json()) as OperationOutcome).issue[0].expression).toEqual(['If-Match']);
    }
  });

  it.each(writes)('%s: the current version matches, weak or strong', async (_, write) => {
    expect((await write(await create(), 'W/"1"')).status).toBe(200);
    expect((await write(await create(), '"1"')).status).toBe(200);
  });

  it('a patch of a missing resource is 404 and a failing patch 422, whatever the If-Match (RFC 7232 §5)', async () => {
    expect((await t.fhir('PATCH', 'Patient/never-stored', patchBody, { ...PATCH, 'If-Match': 'W/"stale-7"' })).status).toBe(404);
    const p = await create();
    const failing = JSON.stringify([{ op: 'test', path: '/birthDate', value: '1999-01-01' }]);
    expect((await t.fhir('PATCH', `Patient/${p.id}`, failing, { ...PATCH, 'If-Match': 'W/"stale-7"' })).status).toBe(422);
  });

  it('If-None-Match with a tag the server never issued matches nothing, so the read is 200', async () => {
    const p = await create();
    expect((await t.fhir('GET', `Patient/${p.id}`, undefined, { 'If-None-Match': 'W/"stale-7"' })).status).toBe(200);
    expect((await t.fhir('GET', `Patient/${p.id}`, undefined, { 'If-None-Match': 'W/"1"' })).status).toBe(304);
    expect((await t.fhir('GET', `Patient/${p.id}`, undefined, { 'If-None-Match': 'stale' })).status).toBe(400);
  });
});

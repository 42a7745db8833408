import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/store/keyset.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * Issue 13, what the hostile-input probe found: a 1.7 KB patch that grew without bound, chains
 * without a depth limit, and 500s that are the client's mistakes. Each answer is checked for its
 * status and the precise place of the problem.
 */
let t: TestApp;
let patientId: string;
beforeAll(async () => {
  t = await startTestApp();
  patientId = ((await (await t.fhir('POST', 'Patient', { resourceType: 'Patient', active: true, name: [{ family: 'Probe', given: ['A'] }] })).json()) as Patient).id!;
});
afterAll(() => t.close());

const PATCH = { 'Content-Type': 'application/json-patch+json' };

async function refused(res: Response, status: number, expression?: string): Promise<OperationOutcome> {
  const oo = (await res.json()) as OperationOutcome;
  expect(res.status, JSON.stringify(oo)).toBe(status);
  expect(oo.resourceType).toBe('OperationOutcome');
  if (expression !== undefined) expect(oo.issue[0].expression).toEqual([expression]);
  return oo;
}

describe('JSON Patch', () => {
  it('answers the exponential copy of the probe with 413 too-costly, and stores nothing', async () => {
    const pairs = Array.from({ length: 24 }, () => [
      { op: 'copy', from: '/name', path: '/name/0/extension' },
      { op: 'copy', from: '/name/0', path: '/name/-' },
    ]).flat();
    const oo = await refused(await t.fhir('PATCH', `Patient/${patientId}`, pairs, PATCH), 413);
    expect(oo.issue[0]).toMatchObject({ code: 'too-costly', expression: [expect.stringMatching(/^Parameters\.operation\[\d+\]$/)] });
    const after = (await (await t.fhir('GET', `Patient/${patientId}`)).json()) as Patient;
    expect(after.meta?.versionId).toBe('1');
  }, 20_000);

  it.each([
    ['a path without a slash', [{ op: 'replace', path: 'active', value: false }], 400, '[0].path'],
    ['a path into __proto__', [{ op: 'add', path: '/__proto__/x', value: 1 }], 400, '[0].path'],
    ['a copy without from', [{ op: 'copy', path: '/name' }], 400, '[0]'],
    ['removing the whole resource', [{ op: 'remove', path: '' }], 422, 'Parameters.operation[0]'],
    ['replacing the resource with another type', [{ op: 'replace', path: '', value: { resourceType: 'Group', id: 'x' } }], 422, undefined],
  ])('refuses %s at the operation', async (_name, ops, status, expression) => {
    await refused(await t.fhir('PATCH', `Patient/${patientId}`, ops, PATCH), status, expression);
  });
});

describe('search', () => {
  it('refuses a chain deeper than three references with 400 at the parameter', async () => {
    const key = `owner${'.partof'.repeat(18)}.name`;
    const oo = await refused(await t.fhir('GET', `Task?${key}=x`), 400, key);
    expect(oo.issue[0].code).toBe('too-costly');
    const has = '_has:Task:patient:_has:Provenance:target:_has:Task:focus:_has:Provenance:target:agent';
    await refused(await t.fhir('GET', `Patient?${has}=Practitioner/x`), 400, has);
  });

  it('still answers chains of up to three references', async () => {
    expect((await t.fhir('GET', 'Task?owner:Organization.partof.partof.name=x')).status).toBe(200);
    expect((await t.fhir('GET', 'Task?owner:Organization.partof:Organization.partof.name=x')).status).toBe(200);
  });

  const cursor = (keys: (string | null)[], rid: string) => encodeCursor({ dir: 'after', keys, rid });
  it.each([
    ['an out-of-range rid', 'Patient?_cursor=' + cursor([], '99999999999999999999999')],
    ['a rid that is a number', `Patient?_cursor=${Buffer.from(JSON.stringify([1, [], 1])).toString('base64url')}`],
    ['a date sort key that is no date', 'Patient?_sort=_lastUpdated&_cursor=' + cursor(['not a date'], '1')],
    ['a date sort key past the calendar', 'Patient?_sort=birthdate&_cursor=' + cursor(['2026-02-31 00:00:00+00'], '1')],
    ['a number sort key that is no number', 'RiskAssessment?_sort=probability&_cursor=' + cursor(['many'], '1')],
    ['too many sort keys', 'Patient?_sort=_lastUpdated&_cursor=' + cursor(['2026-01-01T00:00:00Z', 'x', 'y'], '1')],
    ['a sort key that is an object', `Patient?_sort=_id&_cursor=${Buffer.from(JSON.stringify([1, [{ a: 1 }], '1'])).toString('base64url')}`],
    ['a sort key with U+0000', 'Patient?_sort=_id&_cursor=' + cursor(['a\u0000b'], '1')],
    ['garbage base64', 'Patient?_cursor=%%%%'],
    ['a work queue cursor with a bad rank', `Task?owner=Organization/x&status=ready&_sort=-priority,_lastUpdated&_cursor=${cursor(['high', 'x'], '1')}`],
    ['an audit cursor with a bad date', 'AuditEvent?_cursor=' + cursor(['not a date'], '1')],
    ['an audit cursor with an out-of-range seq', 'AuditEvent?_cursor=' + cursor(['2026-01-01T00:00:00Z'], '99999999999999999999999')],
  ])('refuses %s with 400 at _cursor', async (_name, path) => {
    await refused(await t.fhir('GET', path), 400, '_cursor');
  });
});

describe('$process-message', () => {
  const message = (focus: unknown) => ({
    resourceType: 'Bundle',
    id: `m-${Math.random().toString(36).slice(2)}`,
    type: 'message',
    entry: [{ fullUrl: 'urn:uuid:h', resource: { resourceType: 'MessageHeader', eventCoding: { system: 'https://example.org/events', code: 'x' }, source: { endpoint: 'https://sender.example' }, focus } }],
  });

  it.each([
    ['[null]', [null], 'Bundle.entry[0].resource.focus[0]'],
    ['"x"', 'x', 'Bundle.entry[0].resource.focus'],
    ['[{"reference": 5}]', [{ reference: 5 }], 'Bundle.entry[0].resource.focus[0]'],
  ])('refuses MessageHeader.focus %s with 400, and audits the message', async (_name, focus, expression) => {
    const before = await auditCount();
    const oo = await refused(await t.fhir('POST', '$process-message', message(focus)), 400);
    expect(oo.issue.flatMap((i) => i.expression ?? [])).toContain(expression);
    expect(await auditCount()).toBeGreaterThan(before);
  });
});

async function auditCount(): Promise<number> {
  const rows = await t.t.db.query<{ n: string }>('SELECT count(*) AS n FROM audit_event');
  return Number(rows[0].n);
}

import { describe, expect, it } from 'vitest';
import { primitiveChecks } from './primitives.js';
import { errorAt, errors, summary, testValidator } from './test-support.js';

const ok = (type: string, value: unknown) => expect(primitiveChecks[type](value), `${type} ${JSON.stringify(value)}`).toBeUndefined();
const bad = (type: string, value: unknown) => expect(primitiveChecks[type](value), `${type} ${JSON.stringify(value)}`).toBeTypeOf('string');

describe('R4 primitive formats (datatypes.html#primitive)', () => {
  it.each(['2024', '2024-02', '2024-02-29', '0001-01-01'])('date %s is valid', (v) => ok('date', v));
  it.each(['2024-13-01', '2023-02-29', '2024-1-1', '03/01/2024', '2024-02-01T10:00:00Z', '0000', ''])('date %s is invalid', (v) => bad('date', v));

  it.each(['2024', '2024-03', '2024-03-01', '2024-03-01T09:30:00Z', '2024-03-01T09:30:00.123+01:00', '2024-03-01T23:59:60-14:00'])(
    'dateTime %s is valid',
    (v) => ok('dateTime', v),
  );
  it.each(['2024-03-01T09:30:00', '2024-03-01T09:30Z', '2024-03-01T25:00:00Z', '2024-03-01T09:30:00+15:00', 'yesterday', '2024-03-01 09:30:00Z'])(
    'dateTime %s is invalid',
    (v) => bad('dateTime', v),
  );

  it.each(['2024-03-01T09:30:00Z', '2024-03-01T09:30:00.5-05:00'])('instant %s is valid', (v) => ok('instant', v));
  it.each(['2024-03-01', '2024-03-01T09:30:00'])('instant %s is invalid', (v) => bad('instant', v));

  it.each(['09:30:00', '23:59:60.25'])('time %s is valid', (v) => ok('time', v));
  it.each(['9:30:00', '09:30', '24:00:00'])('time %s is invalid', (v) => bad('time', v));

  it('id: 1-64 of [A-Za-z0-9-.]', () => {
    ok('id', 'a'.repeat(64));
    bad('id', 'a'.repeat(65));
    bad('id', 'has_underscore');
    bad('id', 'has space');
  });

  it('code: no leading, trailing or double whitespace', () => {
    ok('code', 'in-progress');
    ok('code', 'two words');
    bad('code', ' lead');
    bad('code', 'trail ');
    bad('code', 'double  space');
  });

  it('uri, url and canonical: no whitespace (Java \\s), not empty', () => {
    ok('uri', 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001');
    // a uri that is a urn:uuid follows the uuid type, as in the HL7 validator ("UUIDs must be valid and lowercase")
    bad('uri', 'urn:uuid:x');
    bad('uri', 'urn:uuid:6F1C2A3E-0000-4000-8000-000000000001');
    ok('url', 'https://example.org/a?b=c');
    bad('uri', 'http://example.org/a b');
    bad('canonical', '');
    // A non-breaking space is not \s in Java, so the R4 regex accepts it.
    ok('uri', 'http://example.org/a\u00a0b');
  });

  it('oid and uuid', () => {
    ok('oid', 'urn:oid:2.16.840.1.113883');
    bad('oid', 'urn:oid:3.1');
    bad('oid', '2.16.840');
    ok('uuid', 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001');
    bad('uuid', 'urn:uuid:6F1C2A3E-0000-4000-8000-000000000001');
  });

  it('base64Binary', () => {
    ok('base64Binary', 'SGVsbG8=');
    ok('base64Binary', 'SGVs bG8=');
    bad('base64Binary', 'SGVsbG8');
    bad('base64Binary', '***=');
  });

  it('integer ranges', () => {
    ok('integer', -2147483648);
    ok('integer', 2147483647);
    bad('integer', 2147483648);
    bad('integer', 1.5);
    ok('unsignedInt', 0);
    bad('unsignedInt', -1);
    ok('positiveInt', 1);
    bad('positiveInt', 0);
    ok('decimal', 1.5);
    bad('decimal', Number.NaN);
  });

  it('string and markdown: not empty, no vertical tab or form feed', () => {
    ok('string', 'Jane');
    ok('string', ' ');
    bad('string', '');
    bad('string', 'a\u000bb');
    bad('markdown', 'a\fb');
  });

  it.each([
    ['boolean', 'true'],
    ['integer', '1'],
    ['decimal', '0.5'],
    ['string', 12],
    ['code', true],
    ['date', 20240301],
  ])('%s given as JSON %j is the wrong JSON type', (type, value) => {
    expect(primitiveChecks[type](value)).toMatch(/is a JSON (boolean|number|string) but this value is a JSON/);
  });
});

describe('primitives inside resources', () => {
  const patient = (extra: Record<string, unknown>) => ({ resourceType: 'Patient', ...extra });

  it('reports the element path and the problem', () => {
    const issues = testValidator().validate(patient({ birthDate: '1980-02-30', active: 'yes' }));
    expect(errorAt(issues, 'Patient.birthDate')?.diagnostics).toMatch(/not a calendar date/);
    expect(errorAt(issues, 'Patient.active')?.code).toBe('structure');
  });

  it('checks each item of a repeating primitive', () => {
    const issues = testValidator().validate(patient({ name: [{ given: ['Jane', ''] }] }));
    expect(summary(errors(issues))).toEqual([expect.stringMatching(/^error Patient\.name\[0\]\.given\[1\]: Empty string/)]);
  });

  it('checks resource ids with the id regex', () => {
    expect(errorAt(testValidator().validate(patient({ id: 'a_b' })), 'Patient.id')).toBeDefined();
  });

  it('checks choice values by their type', () => {
    const issues = testValidator().validate(patient({ deceasedDateTime: '2020-01-01T10:00:00' }));
    expect(errorAt(issues, 'Patient.deceased.ofType(dateTime)')?.diagnostics).toMatch(/time zone/);
  });
});

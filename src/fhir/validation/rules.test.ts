import { describe, expect, it } from 'vitest';
import { errorAt, errors, testValidator } from './test-support.js';

const patient = (value: string) => ({ resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value }] });

describe('NHS number rule', () => {
  it.each(['9000000009', '9434765919'])('accepts %s', (value) => {
    expect(errors(testValidator().validate(patient(value)))).toEqual([]);
  });

  it('rejects a wrong check digit, naming it', () => {
    const issue = errorAt(testValidator().validate(patient('9000000008')), 'Patient.identifier[0].value');
    expect(issue?.diagnostics).toBe('NHS number 9000000008 fails the Modulus 11 check: check digit is 8, expected 9');
    expect(issue?.details?.coding?.[0]?.code).toBe('nhs-number');
  });

  it('rejects numbers that are not 10 digits', () => {
    expect(errorAt(testValidator().validate(patient('900 000 0009')), 'Patient.identifier[0].value')?.diagnostics).toMatch(/exactly 10 digits/);
  });

  it('applies to every Identifier, e.g. a reference identifier inside a Bundle entry', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001',
          resource: { resourceType: 'Flag', status: 'active', code: { text: 'x' }, subject: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000008' } } },
        },
      ],
    };
    expect(errorAt(testValidator().validate(bundle), 'Bundle.entry[0].resource.subject.identifier.value')).toBeDefined();
  });

  it('leaves other identifier systems alone', () => {
    expect(errors(testValidator().validate({ resourceType: 'Patient', identifier: [{ system: 'urn:x', value: '9000000008' }] }))).toEqual([]);
  });
});

describe('Bundle fullUrl and resource id', () => {
  const bundle = (fullUrl: string) => ({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl, resource: { resourceType: 'Patient', id: 'p1' } }] });

  it.each(['http://x.org/fhir/Patient/p1', 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001'])('accepts %s', (fullUrl) => {
    expect(testValidator().validate(bundle(fullUrl))).toEqual([]);
  });

  it.each(['http://x.org/fhir/Patient/p2', 'http://x.org/fhir/Group/p1'])('warns about %s', (fullUrl) => {
    const issues = testValidator().validate(bundle(fullUrl));
    expect(issues.map((i) => [i.severity, i.expression?.[0]])).toEqual([['warning', 'Bundle.entry[0].fullUrl']]);
    expect(issues[0].diagnostics).toMatch(/should end with \/Patient\/p1/);
  });
});

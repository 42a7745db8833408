import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { nativeExpressions } from './native-invariants.js';
import { errorAt, errors, summary, testValidator } from './test-support.js';
import { createR4Validator } from './validator.js';

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

describe('a profile invariant that restates the NHS number rule (stepwise-nhs-number-1)', () => {
  const url = 'https://stepwise.example/fhir/StructureDefinition/TestNhsNumberInvariant';
  const validatorWith = (expression: string) => {
    const profile: StructureDefinition = {
      resourceType: 'StructureDefinition',
      url,
      name: 'TestNhsNumberInvariant',
      status: 'draft',
      kind: 'resource',
      abstract: false,
      type: 'Patient',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
      derivation: 'constraint',
      differential: {
        element: [
          { id: 'Patient.identifier', path: 'Patient.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
          {
            id: 'Patient.identifier:nhsNumber',
            path: 'Patient.identifier',
            sliceName: 'nhsNumber',
            max: '1',
            constraint: [{ key: 'stepwise-nhs-number-1', severity: 'error', human: 'Modulus 11', expression }],
          },
          { id: 'Patient.identifier:nhsNumber.system', path: 'Patient.identifier.system', min: 1, fixedUri: 'https://fhir.nhs.uk/Id/nhs-number' },
        ],
      },
    };
    const validator = createR4Validator();
    validator.registry.addStructureDefinition(profile);
    return validator;
  };
  const profiled = (value: string) => ({ ...patient(value), meta: { profile: [url] } });

  it('reports an invalid NHS number once, in the words of the rule', () => {
    const validator = validatorWith(nativeExpressions['stepwise-nhs-number-1']);
    expect(summary(validator.validate(profiled('9000000008')))).toEqual([
      'error Patient.identifier[0].value: NHS number 9000000008 fails the Modulus 11 check: check digit is 8, expected 9',
    ]);
    expect(summary(validator.validate(profiled('900 000 0009')))).toEqual([expect.stringMatching(/^error Patient\.identifier\[0\]\.value: .*exactly 10 digits/)]);
    expect(validator.validate(profiled('9000000009'))).toEqual([]);
  });

  it('evaluates the key with FHIRPath when the profile changes the expression', () => {
    const validator = validatorWith("value.startsWith('4')");
    expect(summary(errors(validator.validate(profiled('9000000009'))))).toEqual([expect.stringMatching(/^error Patient\.identifier\[0\]: Constraint stepwise-nhs-number-1 failed/)]);
  });
});

describe('Bundle fullUrl and resource id (bundle.html#bundle-unique: the fullUrl SHALL NOT disagree with the id)', () => {
  const bundle = (fullUrl: string, type = 'collection') => ({ resourceType: 'Bundle', type, entry: [{ fullUrl, resource: { resourceType: 'Patient', id: 'p1' } }] });

  it.each([
    'http://x.org/fhir/Patient/p1',
    'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001',
    'https://x.org/not-restful',
    'http://x.org/fhir/Patinet/p2', // not a resource type: not a RESTful URL, only an identity
  ])('accepts %s', (fullUrl) => {
    expect(testValidator().validate(bundle(fullUrl))).toEqual([]);
  });

  it.each(['http://x.org/fhir/Patient/p2', 'http://x.org/fhir/Group/p1'])('refuses %s, a RESTful URL naming another resource, as the HL7 validator does', (fullUrl) => {
    const issues = testValidator().validate(bundle(fullUrl));
    expect(issues.map((i) => [i.severity, i.expression?.[0]])).toEqual([['error', 'Bundle.entry[0].fullUrl']]);
    expect(issues[0].diagnostics).toBe(`The fullUrl '${fullUrl}' looks like a RESTful server URL, so it must end with the correct type and id (/Patient/p1)`);
  });

  it('only warns in a message: the receiver gives each resource its own id, so the message can still be read and routed', () => {
    const issues = testValidator().validate(bundle('http://x.org/fhir/Patient/p2', 'message'));
    expect(issues.filter((i) => i.expression?.[0] === 'Bundle.entry[0].fullUrl').map((i) => i.severity)).toEqual(['warning']);
  });
});

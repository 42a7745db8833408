import { describe, expect, it } from 'vitest';
import { errorAt, errors, summary, TEST_PROFILE, testValidator } from './test-support.js';

const validate = (resource: unknown, profiles?: string[]) => testValidator().validate(resource, { profiles });
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const condition = (extra: Record<string, unknown>) => ({ resourceType: 'Condition', subject: { reference: 'Patient/1' }, ...extra });

describe('required bindings (terminologies.html#strength)', () => {
  it('rejects a code outside the value set and lists the allowed codes', () => {
    const issue = errorAt(validate({ resourceType: 'Patient', gender: 'Female' }), 'Patient.gender');
    expect(issue?.code).toBe('code-invalid');
    expect(issue?.diagnostics).toBe(
      "'Female' is not in value set 'AdministrativeGender' (http://hl7.org/fhir/ValueSet/administrative-gender), which is required here; allowed codes: male, female, other, unknown",
    );
  });

  it('accepts a CodeableConcept when one of its codings is in the value set', () => {
    const cc = { coding: [{ system: 'http://snomed.info/sct', code: '55561003' }, { system: CLINICAL, code: 'active' }] };
    expect(errors(validate(condition({ clinicalStatus: cc })))).toEqual([]);
  });

  it('rejects a CodeableConcept whose codings are all outside the value set', () => {
    const cc = { coding: [{ system: 'http://example.org/local', code: 'active' }] };
    expect(errorAt(validate(condition({ clinicalStatus: cc })), 'Condition.clinicalStatus')?.diagnostics).toMatch(
      /None of the codings \(http:\/\/example.org\/local\|active\) is in value set 'Condition Clinical Status Codes'/,
    );
  });

  it('rejects a CodeableConcept with text only', () => {
    expect(errorAt(validate(condition({ clinicalStatus: { text: 'active' } })), 'Condition.clinicalStatus')?.diagnostics).toMatch(/text alone is not enough/);
  });

  it('does not fail codes of value sets it cannot expand (external systems)', () => {
    const issues = validate({
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { contentType: 'application/x-made-up', url: 'http://example.org/doc' } }],
    });
    expect(errors(issues)).toEqual([]);
  });

  it('checks Coding values bound in a profile (an extension definition)', () => {
    const issues = validate({
      resourceType: 'Basic',
      code: { text: 'x' },
      extension: [{ url: TEST_PROFILE.referralRoute, valueCoding: { system: 'https://stepwise.example/fhir/CodeSystem/test-referral-route', code: 'fax' } }],
    });
    expect(errorAt(issues, 'Basic.extension[0].value.ofType(Coding)')?.diagnostics).toMatch(/allowed codes: gp, self, nhs111/);
  });
});

describe('extensible and preferred bindings', () => {
  const encounter = (klass: unknown) => ({ resourceType: 'Encounter', status: 'finished', class: klass });

  it('warns about a code from a system nobody knows', () => {
    const issues = validate(encounter({ system: 'http://example.org/our-classes', code: 'clinic' }));
    expect(errors(issues)).toEqual([]);
    expect(summary(issues)).toEqual([expect.stringMatching(/^warning Encounter.class: Code system http:\/\/example.org\/our-classes is not known/)]);
  });

  it('says nothing about codes from known systems outside the value set', () => {
    expect(validate(encounter({ system: 'http://snomed.info/sct', code: '185389009' }))).toEqual([]);
  });
});

describe('codes from known code systems', () => {
  it('rejects a code its (complete) code system does not define, whatever the binding', () => {
    const issues = validate({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'mental-health' }] }],
    });
    expect(errorAt(issues, 'Observation.category[0].coding[0].code')?.diagnostics).toBe(
      "Code 'mental-health' is not defined in code system http://terminology.hl7.org/CodeSystem/observation-category",
    );
  });

  it('accepts codes of code systems whose codes live elsewhere (message-events)', () => {
    const issues = validate({
      resourceType: 'MessageHeader',
      eventCoding: { system: 'http://hl7.org/fhir/message-events', code: 'admin-notify' },
      source: { endpoint: 'http://example.org' },
    });
    expect(errors(issues)).toEqual([]);
  });
});

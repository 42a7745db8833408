import { describe, expect, it } from 'vitest';
import { errorAt, errors, summary, testValidator } from './test-support.js';

const validate = (resource: unknown) => testValidator().validate(resource);
const flag = (subject: unknown) => ({ resourceType: 'Flag', status: 'active', code: { text: 'x' }, subject });

describe('reference format (references.html#literal)', () => {
  it.each([
    'Patient/123',
    'Patient/123/_history/2',
    'http://example.org/fhir/Patient/123',
    'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001',
    'urn:oid:1.2.3.4',
    'Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009',
  ])('accepts %s', (reference) => {
    expect(errors(validate(flag({ reference })))).toEqual([]);
  });

  it.each([
    ['Patients/123', /not an R4 resource type/],
    ['http://example.org/fhir/Patient/1 2', /^The reference 'http:\/\/example.org\/fhir\/Patient\/1 2' is not a valid reference/],
    ['ht sdtps://example.org/Chicken/example', /^The reference 'ht sdtps:\/\/example.org\/Chicken\/example' is not a valid reference/],
    ['Patient/1 ', /is not a valid reference: it contains whitespace/],
  ])('rejects %s', (reference, message) => {
    expect(errorAt(validate(flag({ reference })), 'Flag.subject.reference')?.diagnostics).toMatch(message);
  });

  it.each([
    ['Patient/12_3', /"12_3" is not a valid id/],
    ['123', /expected Type\/id/],
    ['Patient/1/_history/v_1', /"v_1" is not a valid version id/],
  ])('warns about %s, whose syntax looks incorrect (a string that may still resolve), as the HL7 validator does', (reference, message) => {
    const issues = validate(flag({ reference }));
    expect(errors(issues)).toEqual([]);
    const warning = issues.find((i) => i.severity === 'warning' && i.expression?.[0] === 'Flag.subject.reference');
    expect(warning?.diagnostics).toMatch(new RegExp(`^The syntax of the reference '${reference.replace(/[/]/g, '\\/')}' looks incorrect, and it should be checked`));
    expect(warning?.diagnostics).toMatch(message);
  });

  it('does not check the uuid of a urn:uuid reference (a string), unlike a uri such as a fullUrl', () => {
    for (const reference of ['urn:uuid:6F1C2A3E-0000-4000-8000-000000000001', 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001-X']) {
      expect(errors(validate(flag({ reference })))).toEqual([]);
    }
  });

  it('rejects a Reference.type that contradicts the reference', () => {
    expect(errorAt(validate(flag({ reference: 'Patient/1', type: 'Group' })), 'Flag.subject.type')).toBeDefined();
  });

  it("rejects '#' outside a contained resource (ref-1)", () => {
    expect(errorAt(validate(flag({ reference: '#' })), 'Flag.subject')?.details?.coding?.[0]?.code).toBe('ref-1');
  });

  it('rejects a local reference without its contained resource (ref-1)', () => {
    expect(errorAt(validate(flag({ reference: '#nothere' })), 'Flag.subject')?.details?.coding?.[0]?.code).toBe('ref-1');
  });
});

describe('reference targets', () => {
  it('rejects a target type the element does not allow', () => {
    const issue = errorAt(validate({ resourceType: 'Condition', subject: { reference: 'Observation/1' } }), 'Condition.subject');
    expect(issue?.diagnostics).toBe('Condition.subject may refer to Patient, Group, but refers to a Observation (Observation/1)');
  });

  it('checks absolute URLs by their last segments and Reference.type when there is no literal', () => {
    expect(errorAt(validate({ resourceType: 'Condition', subject: { reference: 'https://x.org/fhir/Device/9' } }), 'Condition.subject')).toBeDefined();
    expect(errorAt(validate({ resourceType: 'Condition', subject: { type: 'Device', identifier: { value: '1' } } }), 'Condition.subject')).toBeDefined();
  });

  it('resolves contained targets', () => {
    const resource = {
      resourceType: 'Condition',
      contained: [{ resourceType: 'Device', id: 'd1' }],
      subject: { reference: '#d1' },
    };
    expect(summary(errors(validate(resource)))).toEqual([expect.stringMatching(/Condition.subject may refer to Patient, Group, but refers to a Device/)]);
  });

  it('resolves urn:uuid targets inside a Bundle', () => {
    const bundle = (targetType: string) => ({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: { resourceType: 'Condition', subject: { reference: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000002' } } },
        { fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000002', resource: { resourceType: targetType } },
      ],
    });
    expect(errors(validate(bundle('Patient')))).toEqual([]);
    expect(errorAt(validate(bundle('Device')), 'Bundle.entry[0].resource.subject')).toBeDefined();
  });

  it('allows any type where the element allows Resource', () => {
    expect(errors(validate({ resourceType: 'Provenance', target: [{ reference: 'Device/1' }], recorded: '2024-01-01T00:00:00Z', agent: [{ who: { reference: 'Practitioner/1' } }] }))).toEqual([]);
  });
});

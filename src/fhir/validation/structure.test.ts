import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorAt, errors, readFixture, summary, testValidator } from './test-support.js';

const validate = (resource: unknown) => testValidator().validate(resource);
const patient = (extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', ...extra });

describe('resource envelope', () => {
  it('accepts a minimal resource', () => {
    expect(validate(patient())).toEqual([]);
  });

  it.each([
    ['not an object', 'Patient', /must be a JSON object/],
    ['no resourceType', { id: 'x' }, /no resourceType/],
  ])('rejects %s', (_what, value, message) => {
    expect(summary(validate(value))).toEqual([expect.stringMatching(message)]);
  });

  it('rejects an unknown resource type', () => {
    expect(errorAt(validate({ resourceType: 'Patientx' }), 'Patientx.resourceType')?.diagnostics).toMatch(/not an R4 resource type/);
  });

  it('rejects abstract and data types as resources', () => {
    expect(errors(validate({ resourceType: 'DomainResource' }))).toHaveLength(1);
    expect(errors(validate({ resourceType: 'HumanName', family: 'x' }))).toHaveLength(1);
  });
});

describe('elements', () => {
  it('reports unknown elements, with a hint for wrong case', () => {
    const issues = validate(patient({ birthdate: '1980-01-01', name: [{ family: 'Doe', nickname: 'J' }] }));
    expect(errorAt(issues, 'Patient.birthdate')?.diagnostics).toMatch(/did you mean birthDate/);
    expect(errorAt(issues, 'Patient.name[0].nickname')?.diagnostics).toMatch(/Unknown element 'nickname' in HumanName/);
  });

  it('reports a choice type the element does not allow, listing the allowed ones', () => {
    const issues = validate({ resourceType: 'Condition', subject: { reference: 'Patient/1' }, onsetBoolean: true });
    expect(errorAt(issues, 'Condition.onsetBoolean')?.diagnostics).toMatch(/onset\[x\] does not allow type Boolean; allowed: dateTime, Age, Period, Range, string/);
  });

  it('allows only one type of a choice element', () => {
    const issues = validate({ resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2020-01-01' });
    expect(errorAt(issues, 'Patient.deceased')?.diagnostics).toMatch(/Only one type of deceased\[x\]/);
  });

  it('reports missing required elements, nested ones at their own path', () => {
    const issues = validate({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, referenceRange: [{ text: 'ok' }], component: [{ valueString: 'x' }] });
    expect(errorAt(issues, 'Observation.component[0].code')?.code).toBe('required');
    expect(errors(issues)).toHaveLength(1);
  });

  it('counts a primitive with only an extension as present', () => {
    const issues = validate({
      resourceType: 'Flag',
      _status: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] },
      code: { text: 'x' },
      subject: { reference: 'Patient/1' },
    });
    expect(errorAt(issues, 'Flag.status')).toBeUndefined();
  });
});

describe('JSON shape (json.html)', () => {
  it('needs arrays for repeating elements and single values otherwise', () => {
    const issues = validate(patient({ name: { family: 'Doe' }, gender: ['female'] }));
    expect(errorAt(issues, 'Patient.name')?.diagnostics).toMatch(/must be a JSON array/);
    expect(errorAt(issues, 'Patient.gender')?.diagnostics).toMatch(/must not be a JSON array/);
  });

  it('rejects null, empty arrays, empty objects and empty strings', () => {
    const issues = validate(patient({ birthDate: null, telecom: [], name: [{}], address: [{ city: '' }] }));
    expect(errorAt(issues, 'Patient.birthDate')?.diagnostics).toMatch(/null/);
    expect(errorAt(issues, 'Patient.telecom')?.diagnostics).toMatch(/empty array/);
    expect(errorAt(issues, 'Patient.name[0]')?.details?.coding?.[0]?.code).toBe('ele-1');
    expect(errorAt(issues, 'Patient.address[0].city')?.diagnostics).toMatch(/Empty string/);
  });

  it('treats an object with only an id as empty (ele-1)', () => {
    expect(errorAt(validate(patient({ name: [{ id: 'n1' }] })), 'Patient.name[0]')).toBeDefined();
  });
});

describe('primitive extensions (_name siblings)', () => {
  const ext = { extension: [{ url: 'http://example.org/ext', valueString: 'x' }] };

  it('accepts aligned arrays with null placeholders', () => {
    expect(errors(validate(patient({ name: [{ given: ['Jane', null], _given: [null, ext] }] })))).toEqual([]);
  });

  it('rejects arrays of different lengths', () => {
    const issues = validate(patient({ name: [{ given: ['Jane', 'Ann'], _given: [null] }] }));
    expect(errorAt(issues, 'Patient.name[0].given')?.diagnostics).toMatch(/same length/);
  });

  it('rejects a position with neither value nor extension', () => {
    const issues = validate(patient({ name: [{ given: ['Jane', null], _given: [null, null] }] }));
    expect(errors(issues).length).toBeGreaterThan(0);
  });

  it('validates the extension content and rejects _name for non-primitives', () => {
    const issues = validate(patient({ _birthDate: { extension: [{ valueString: 'x' }] }, _name: [{}] }));
    expect(errorAt(issues, 'Patient.birthDate.extension[0].url')?.code).toBe('required');
    expect(errorAt(issues, 'Patient._name')?.diagnostics).toMatch(/Unknown element/);
  });

  it('rejects a _name object with other content', () => {
    expect(errorAt(validate(patient({ _birthDate: { value: 'x' } })), 'Patient.birthDate.value')).toBeDefined();
  });
});

describe('nested resources', () => {
  it('validates contained resources with their own type', () => {
    const issues = validate(patient({ contained: [{ resourceType: 'Organization', id: 'o1', nme: 'x' }], managingOrganization: { reference: '#o1' } }));
    expect(errorAt(issues, 'Patient.contained[0].nme')).toBeDefined();
  });

  it('validates Bundle entries recursively and uses their own paths', () => {
    const issues = validate({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: { resourceType: 'Flag', status: 'bogus', code: { text: 'x' } } }],
    });
    expect(errorAt(issues, 'Bundle.entry[0].resource.status')?.code).toBe('code-invalid');
    expect(errorAt(issues, 'Bundle.entry[0].resource.subject')?.code).toBe('required');
  });

  it('validates resources inside Parameters and bundle responses', () => {
    const issues = validate({
      resourceType: 'Parameters',
      parameter: [{ name: 'p', resource: { resourceType: 'Patient', gender: 'x' } }],
    });
    expect(errorAt(issues, 'Parameters.parameter[0].resource.gender')).toBeDefined();
    const response = validate({
      resourceType: 'Bundle',
      type: 'batch-response',
      entry: [{ response: { status: '400', outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] } } }],
    });
    expect(errors(response)).toEqual([]);
  });
});

describe('robustness', () => {
  it('never throws, whatever JSON it is given', () => {
    const types = ['Patient', 'Bundle', 'ServiceRequest', 'Task', 'Questionnaire', 'Parameters'];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 4 })), (resourceType, body) => {
        const issues = validate({ ...body, resourceType });
        expect(Array.isArray(issues)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary values of known elements', () => {
    const keys = ['name', 'identifier', 'contained', 'extension', 'text', 'meta', 'birthDate', '_birthDate', 'managingOrganization', 'contact', 'link'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 4 })), (body) => {
        expect(Array.isArray(validate({ resourceType: 'Patient', ...body }))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('input', () => {
  it('is not modified', () => {
    const bundle = deepFreeze(readFixture('referral-message-bundle.json'));
    expect(() => validate(bundle)).not.toThrow();
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

import { describe, expect, it } from 'vitest';
import { errors } from './test-support.js';
import { createR4Validator } from './validator.js';

/**
 * Contained resources (http://hl7.org/fhir/R4/references.html#contained) are validated with their
 * container by default; `containedResources: 'ignore'` (the HL7 validator's contained-resource
 * policy IGNORE) leaves them unread: their content, their ids and whether each is referred to (dom-3).
 */

const validator = createR4Validator();
const longId = '1'.repeat(65);
const condition = {
  resourceType: 'Condition',
  subject: { reference: 'Patient/1' },
  contained: [{ resourceType: 'Practitioner', id: longId, gender: 'F' }, { resourceType: 'Practitioner', name: [{ family: 'Ng' }] }],
};

describe('contained resources', () => {
  it('are validated by default: content, id, and being referred to', () => {
    const where = errors(validator.validate(condition)).map((i) => i.expression?.[0]);
    expect(where.sort()).toEqual(['Condition', 'Condition.contained[0].gender', 'Condition.contained[0].id', 'Condition.contained[1]']);
  });

  it('are not read when ignored', () => {
    expect(errors(validator.validate(condition, { containedResources: 'ignore' }))).toEqual([]);
  });

  it('when ignored, leave the container and other nested resources checked', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'urn:uuid:0b6f4f4e-8d5e-4b43-9d3b-0a1c2d3e4f50', resource: { ...condition, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'nope' }] } } }],
    };
    const where = errors(validator.validate(bundle, { containedResources: 'ignore' })).map((i) => i.expression?.[0]);
    expect(where.length).toBeGreaterThan(0);
    expect(where.every((w) => w?.startsWith('Bundle.entry[0].resource.clinicalStatus'))).toBe(true);
  });
});

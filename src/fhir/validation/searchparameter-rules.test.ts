import { describe, expect, it } from 'vitest';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** A derived SearchParameter keeps its parent's type and bases; a CapabilityStatement states a definition's type. */

const validator = createR4Validator();
const errorLines = (resource: unknown) => summary(errors(validator.validate(resource)));
const ORG_NAME = 'http://hl7.org/fhir/SearchParameter/Organization-name';

const derived = (extra: Record<string, unknown>) => ({
  resourceType: 'SearchParameter',
  url: 'https://example.net/fhir/SearchParameter/organization-name',
  name: 'OrganizationName',
  status: 'active',
  description: 'Organisations by name or alias',
  code: 'name',
  derivedFrom: ORG_NAME,
  base: ['Organization'],
  type: 'string',
  expression: 'Organization.name | Organization.alias',
  ...extra,
});

describe('a SearchParameter derived from another', () => {
  it('passes when it keeps the type and narrows the bases', () => {
    expect(errorLines(derived({}))).toEqual([]);
  });

  it('keeps its parent type', () => {
    expect(errorLines(derived({ type: 'token' }))).toEqual([`error SearchParameter: The type token is different to the type string of ${ORG_NAME} in the derivedFrom SearchParameter`]);
  });

  it('has only bases its parent has', () => {
    expect(errorLines(derived({ base: ['Patient'] }))).toEqual([
      `error SearchParameter: The resource type Patient is not listed as a base in the SearchParameter this is derived from (${ORG_NAME})`,
    ]);
  });
});

describe("a CapabilityStatement's search parameter", () => {
  it('has the type of the definition it names', () => {
    const cs = (type: string) => ({
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: '2026-01-01',
      kind: 'instance',
      implementation: { description: 'test' },
      fhirVersion: '4.0.1',
      format: ['json'],
      rest: [{ mode: 'server', resource: [{ type: 'AllergyIntolerance', searchParam: [{ name: 'clinical-status', definition: 'http://hl7.org/fhir/SearchParameter/AllergyIntolerance-clinical-status|4.0.1', type }] }] }],
    });
    expect(errorLines(cs('token'))).toEqual([]);
    expect(errorLines(cs('date'))).toEqual([
      "error CapabilityStatement.rest[0].resource[0].searchParam[0]: Type mismatch - SearchParameter 'http://hl7.org/fhir/SearchParameter/AllergyIntolerance-clinical-status|4.0.1' type is token, but type here is date",
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { createR4Validator } from './validator.js';

// A ValueSet filter on a Coding-typed code system property names its value as system(|version)#code.

describe('ValueSet filters on a Coding property', () => {
  const validator = createR4Validator();
  validator.registry.addCodeSystem({ resourceType: 'CodeSystem', url: 'https://stepwise.example/fhir/CodeSystem/team-kind', status: 'active', content: 'complete', concept: [{ code: 'crisis' }, { code: 'community' }] });
  validator.registry.addCodeSystem({
    resourceType: 'CodeSystem',
    url: 'https://stepwise.example/fhir/CodeSystem/services',
    status: 'active',
    content: 'complete',
    property: [{ code: 'kind', type: 'Coding' }, { code: 'beds', type: 'integer' }],
    concept: [{ code: 'home-treatment', property: [{ code: 'kind', valueCoding: { system: 'https://stepwise.example/fhir/CodeSystem/team-kind', code: 'crisis' } }] }],
  });
  const valueSet = (property: string, value: string) => ({
    resourceType: 'ValueSet',
    url: 'https://stepwise.example/fhir/ValueSet/crisis-services',
    status: 'active',
    compose: { include: [{ system: 'https://stepwise.example/fhir/CodeSystem/services', filter: [{ property, op: '=', value }] }] },
  });
  const errors = (resource: unknown) => validator.validate(resource).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

  it('accepts system#code naming a code of a known system, and leaves other property types alone', () => {
    expect(errors(valueSet('kind', 'https://stepwise.example/fhir/CodeSystem/team-kind#crisis'))).toEqual([]);
    expect(errors(valueSet('beds', '4'))).toEqual([]);
  });

  it('refuses a bare code, and a code the named system does not define', () => {
    expect(errors(valueSet('kind', 'crisis'))).toEqual([
      "ValueSet.compose.include[0].filter[0]: The value for a filter based on property 'kind' must be in the format system(|version)#code, not 'crisis'",
    ]);
    expect(errors(valueSet('kind', 'https://stepwise.example/fhir/CodeSystem/team-kind#inpatient'))[0]).toMatch(/is not a valid code \(Unknown code 'inpatient'/);
  });
});

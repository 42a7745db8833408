import { describe, expect, it } from 'vitest';
import { withElementIds } from './conformance-check.js';
import { constraintProfile, TEST_PROFILE_BASE } from './test-support.js';
import { createR4Validator } from './validator.js';

// ImplementationGuide.global: "a set of profiles that all resources covered by this implementation
// guide must conform to" (implementationguide-definitions.html#ImplementationGuide.global).

describe('ImplementationGuide global profiles', () => {
  const validator = createR4Validator();
  const url = `${TEST_PROFILE_BASE}NamedPatient`;
  validator.registry.addStructureDefinition(withElementIds(constraintProfile('NamedPatient', 'Patient', [{ path: 'Patient.name', min: 1 }])));
  const errors = (resource: unknown) => validator.validate(resource).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

  it('apply to every resource of their type once the guide is held, nested ones too', () => {
    expect(errors({ resourceType: 'Patient' })).toEqual([]);
    validator.registry.addResource({ resourceType: 'ImplementationGuide', url: 'https://stepwise.example/fhir/ImplementationGuide/ig', name: 'IG', status: 'active', packageId: 'x', fhirVersion: ['4.0.1'], global: [{ type: 'Patient', profile: url }] });
    expect(errors({ resourceType: 'Patient' })).toEqual(['Patient.name: Patient.name needs at least 1 value in this profile, but has 0']);
    expect(errors({ resourceType: 'Patient', name: [{ family: 'Jones' }] })).toEqual([]);
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient' } }] };
    expect(errors(bundle)).toEqual(['Bundle.entry[0].resource.name: Patient.name needs at least 1 value in this profile, but has 0']);
  });
});

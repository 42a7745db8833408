import { describe, expect, it } from 'vitest';
import { withElementIds } from './conformance-check.js';
import { constraintProfile, TEST_PROFILE_BASE } from './test-support.js';
import { createR4Validator } from './validator.js';

// Profiles for chosen Bundle entries, as the HL7 validator's `-bundle {rule} {profile}` option.

describe('bundleProfiles', () => {
  const validator = createR4Validator();
  const url = `${TEST_PROFILE_BASE}NamedPatient`;
  validator.registry.addStructureDefinition(withElementIds(constraintProfile('NamedPatient', 'Patient', [{ path: 'Patient.name', min: 1 }])));
  const entry = (n: number, resource: Record<string, unknown>) => ({ fullUrl: `urn:uuid:6f1c2a3e-0000-4000-8000-00000000000${n}`, resource });
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [entry(1, { resourceType: 'Patient', name: [{ family: 'A' }] }), entry(2, { resourceType: 'Patient' }), entry(3, { resourceType: 'Flag', status: 'active', code: { text: 'x' }, subject: { reference: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001' } })] };
  const errors = (rule: string, profile = url) =>
    validator
      .validate(bundle, { bundleProfiles: [{ rule, profile }] })
      .filter((i) => i.severity === 'error')
      .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

  it('a rule selects entries by type and/or index', () => {
    expect(errors('Patient:0')).toEqual([]);
    expect(errors('Patient:1')).toEqual(['Bundle.entry[1].resource.name: Patient.name needs at least 1 value in this profile, but has 0']);
    expect(errors('Patient')).toEqual(['Bundle.entry[1].resource.name: Patient.name needs at least 1 value in this profile, but has 0']);
  });

  it('an unknown profile is an error', () => {
    expect(errors(':0', 'https://nowhere.example/X')).toEqual(['Bundle.entry[0].resource: Profile https://nowhere.example/X (for Bundle entries :0) is not known to this validator']);
  });
});

import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerValidator } from '../../src/fhir/server-validator.js';
import { constraintProfile, TEST_PROFILE_BASE } from '../../src/fhir/validation/test-support.js';
import { StoredConformance } from '../../src/pipeline/stored-conformance.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * ImplementationGuide.global (implementationguide-definitions.html#ImplementationGuide.global: "a
 * set of profiles that all resources covered by this implementation guide must conform to"): a
 * guide stored over REST makes `$validate` check every resource of the type against its global
 * profile, as the HL7 validator does with the guides it loads. Writes do not apply it: a guide
 * loaded for one purpose must not refuse referrals.
 */

const named = { ...constraintProfile('GloballyNamedPatient', 'Patient', [{ id: 'Patient.name', path: 'Patient.name', min: 1 }]), id: 'GloballyNamedPatient' };
const guide = {
  resourceType: 'ImplementationGuide',
  id: 'named-patients',
  url: 'https://stepwise.example/fhir/ImplementationGuide/named-patients',
  name: 'NamedPatients',
  status: 'active',
  packageId: 'example.named.patients',
  fhirVersion: ['4.0.1'],
  global: [{ type: 'Patient', profile: `${TEST_PROFILE_BASE}GloballyNamedPatient` }],
};

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(undefined, { validator: new StoredConformance(createServerValidator) });
  expect((await t.fhir('PUT', 'StructureDefinition/GloballyNamedPatient', named)).status).toBe(201);
});
afterAll(() => t.close());

const errors = async (res: Response) => ((await res.json()) as OperationOutcome).issue.filter((i) => i.severity === 'error').map((i) => i.expression?.[0]);

describe('a stored ImplementationGuide with global profiles', () => {
  it('is applied by $validate from the next request, and stops when the guide is deleted', async () => {
    expect(await errors(await t.fhir('POST', 'Patient/$validate', { resourceType: 'Patient' }))).toEqual([]);
    expect((await t.fhir('PUT', 'ImplementationGuide/named-patients', guide)).status).toBe(201);
    expect(await errors(await t.fhir('POST', 'Patient/$validate', { resourceType: 'Patient' }))).toEqual(['Patient.name']);
    expect(await errors(await t.fhir('POST', 'Patient/$validate', { resourceType: 'Patient', name: [{ family: 'Okafor' }] }))).toEqual([]);
    expect((await t.fhir('DELETE', 'ImplementationGuide/named-patients')).status).toBeLessThan(300);
    expect(await errors(await t.fhir('POST', 'Patient/$validate', { resourceType: 'Patient' }))).toEqual([]);
  });

  it('is not applied to writes', async () => {
    expect((await t.fhir('PUT', 'ImplementationGuide/named-patients', guide)).status).toBeLessThan(300);
    expect((await t.fhir('POST', 'Patient', { resourceType: 'Patient' })).status).toBe(201);
  });
});

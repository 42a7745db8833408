import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerValidator } from '../../src/fhir/server-validator.js';
import { constraintProfile, TEST_PROFILE_BASE } from '../../src/fhir/validation/test-support.js';
import { StoredConformance } from '../../src/pipeline/stored-conformance.js';
import { BASE, startTestApp, type TestApp } from '../support/app.js';

/**
 * `$validate` reads the stored resources a resource refers to, so that a reference's target
 * profiles (ElementDefinition.type.targetProfile: "the target resource SHALL conform to at least
 * one profile defined") are checked, as the HL7 validator does with its resource fetcher; patients
 * that link to each other in a circle are checked once each.
 */

const EX = TEST_PROFILE_BASE.replace(/\/$/, '');
const targetIsNamed = { code: 'Reference', targetProfile: [`${EX}/NamedPatient`] };
const named = { ...constraintProfile('NamedPatient', 'Patient', [{ id: 'Patient.name', path: 'Patient.name', min: 1 }, { id: 'Patient.link.other', path: 'Patient.link.other', type: [targetIsNamed] }]), id: 'NamedPatient' };
const ofNamedPatient = { ...constraintProfile('ObservationOfNamedPatient', 'Observation', [{ id: 'Observation.subject', path: 'Observation.subject', type: [targetIsNamed] }]), id: 'ObservationOfNamedPatient' };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(undefined, { validator: new StoredConformance(createServerValidator) });
  for (const r of [
    named,
    ofNamedPatient,
    { resourceType: 'Patient', id: 'with-name', name: [{ family: 'Okafor' }] },
    { resourceType: 'Patient', id: 'no-name', birthDate: '1990-01-01' },
    { resourceType: 'Patient', id: 'circle-a', name: [{ family: 'A' }], link: [{ other: { reference: 'Patient/circle-b' }, type: 'seealso' }] },
    { resourceType: 'Patient', id: 'circle-b', name: [{ family: 'B' }], link: [{ other: { reference: 'Patient/circle-a' }, type: 'seealso' }] },
  ]) {
    const res = await t.fhir('PUT', `${r.resourceType}/${r.id}`, r);
    expect(res.status, `${r.resourceType}/${r.id}`).toBeLessThan(300);
  }
});
afterAll(() => t.close());

async function errorsOf(type: string, resource: unknown, profile: string): Promise<string[]> {
  const res = await t.fhir('POST', `${type}/$validate?profile=${encodeURIComponent(profile)}`, resource);
  expect(res.status).toBe(200);
  const oo = (await res.json()) as OperationOutcome;
  return oo.issue.filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
}

const observation = (subject: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'mood' }, subject: { reference: subject } });

describe('$validate checks stored targets against target profiles', () => {
  it('a stored target that meets the profile passes, one that does not is an error', async () => {
    expect(await errorsOf('Observation', observation('Patient/with-name'), `${EX}/ObservationOfNamedPatient`)).toEqual([]);
    expect(await errorsOf('Observation', observation('Patient/no-name'), `${EX}/ObservationOfNamedPatient`)).toEqual([
      expect.stringMatching(/^Observation.subject: Unable to find a profile match for Patient\/no-name among choices: .*\/NamedPatient/),
    ]);
  });

  it('an absolute reference on this server is read too; a target that is not stored is not judged', async () => {
    expect(await errorsOf('Observation', observation(`${BASE}/Patient/no-name`), `${EX}/ObservationOfNamedPatient`)).toHaveLength(1);
    expect(await errorsOf('Observation', observation('Patient/not-stored'), `${EX}/ObservationOfNamedPatient`)).toEqual([]);
  });

  it('stored patients that link to each other in a circle are checked and the check ends', async () => {
    const patient = { resourceType: 'Patient', name: [{ family: 'C' }], link: [{ other: { reference: 'Patient/circle-a' }, type: 'seealso' }] };
    expect(await errorsOf('Patient', patient, `${EX}/NamedPatient`)).toEqual([]);
  });
});

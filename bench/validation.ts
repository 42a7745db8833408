import { readFileSync } from 'node:fs';
import { validateResource } from '@medplum/core';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { expandCanonicalPlaceholder, stepwiseProfileUrl } from '../src/fhir/canonical.js';
import { serverValidator } from '../src/fhir/server-validator.js';
import { loadStepwiseConformance } from '../src/fhir/stepwise-profiles.js';

/**
 * Validations per second of Stepwise's validator and @medplum/core's validateResource on the same
 * resources in the same process: a referral ServiceRequest (~2.7 KB), a triage Task and a 20-entry
 * referral message Bundle (bench/fixtures), each without and with its Stepwise profile
 * (StepwiseReferral, StepwiseTriageTask, StepwiseReferralMessage). Ours is the server's validator:
 * R4 plus the Stepwise profiles and their UK Core dependencies, so Bundle entries are also checked
 * against the profiles in their own meta.profile. Medplum gets the published StructureDefinition
 * (with its snapshot) and re-parses it on every call, which is how its API works. Each figure is
 * the best of several timed rounds, interleaved.
 *
 * The fixtures conform to their profiles (0 errors from serverValidator()); the "errors found" lines
 * show what each validator says of them. With StepwiseReferralMessage medplum reports false errors:
 * its slices are discriminated by resource type (Bundle.entry), which medplum does not support.
 */
const fixturesDir = new URL('./fixtures/', import.meta.url);
const ROUND_MS = 400;
const ROUNDS = 5;

interface Subject {
  name: string;
  resource: Resource;
  profileUrl: string;
}

/** A fixture, written with the `${canonical}` placeholder like profiles/examples. */
function readFixture(name: string): Resource {
  return JSON.parse(expandCanonicalPlaceholder(readFileSync(new URL(name, fixturesDir), 'utf8'))) as Resource;
}

/** Drops meta.profile everywhere (the resource and any Bundle entries), for the runs without profiles. */
function withoutProfiles<T>(resource: T): T {
  const copy = structuredClone(resource) as Record<string, any>;
  const strip = (r: Record<string, any> | undefined): void => {
    if (r?.meta) {
      delete r.meta.profile;
      if (Object.keys(r.meta).length === 0) delete r.meta;
    }
    for (const e of r?.entry ?? []) strip(e.resource);
  };
  strip(copy);
  return copy as T;
}

/**
 * Best rate of each operation, in operations per second, over rounds that take turns between the
 * operations, so that load from other processes on the machine falls on all of them alike.
 */
function bestRates(ops: Array<() => void>): number[] {
  for (const op of ops) for (let i = 0; i < 50; i++) op(); // warm-up: compile, JIT
  const best = ops.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    ops.forEach((op, k) => {
      let n = 0;
      const start = performance.now();
      let elapsed = 0;
      while (elapsed < ROUND_MS) {
        for (let i = 0; i < 10; i++) op();
        n += 10;
        elapsed = performance.now() - start;
      }
      best[k] = Math.max(best[k], (n * 1000) / elapsed);
    });
  }
  return best;
}

function medplumErrors(resource: Resource, profile?: StructureDefinition): number {
  try {
    return validateResource(resource, profile ? { profile } : undefined).filter((i) => i.severity === 'error').length;
  } catch (err) {
    const issues = (err as { outcome?: { issue?: { severity: string }[] } }).outcome?.issue;
    if (!issues) throw err;
    return issues.filter((i) => i.severity === 'error').length;
  }
}

/**
 * Invalid resources, one fault each, that the HL7 validator reports as errors: what each validator
 * finds in them ("errors found (Stepwise/medplum)"). Why Stepwise has its own validator
 * (src/fhir/validation/README.md): medplum has no terminology for required bindings, does not
 * check narrative or dom-3, and cannot slice Bundle entries by resource type.
 */
const invalidProbes: Record<string, Resource> = {
  'Patient.gender F (required binding, code)': { resourceType: 'Patient', gender: 'F' as never },
  'Observation.status bogus (required binding, code)': { resourceType: 'Observation', status: 'bogus' as never, code: { text: 'mood' } },
  'AllergyIntolerance.clinicalStatus unknown code (required binding, CodeableConcept)': {
    resourceType: 'AllergyIntolerance',
    patient: { reference: 'Patient/1' },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'wrong' }] },
  },
  'Patient.birthDate 2023-02-30 (calendar)': { resourceType: 'Patient', birthDate: '2023-02-30' },
  'narrative with <script> (txt-1)': { resourceType: 'Patient', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div>' } },
  'contained resource nothing refers to (dom-3)': { resourceType: 'Observation', status: 'final', code: { text: 'mood' }, contained: [{ resourceType: 'Patient', id: 'p' }] },
  'patient-birthPlace on a Practitioner (extension context)': { resourceType: 'Practitioner', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Leeds' } }] },
};

export async function benchValidation(): Promise<Record<string, string | number>> {
  const loadStart = performance.now();
  const validator = serverValidator();
  const loadMs = performance.now() - loadStart;

  const published = new Map(loadStepwiseConformance().map((r) => [r.url, r]));
  const subjects: Subject[] = [
    { name: 'ServiceRequest', resource: readFixture('referral-service-request.json'), profileUrl: stepwiseProfileUrl('StepwiseReferral') },
    { name: 'Task', resource: readFixture('triage-task.json'), profileUrl: stepwiseProfileUrl('StepwiseTriageTask') },
    { name: 'Bundle (20 entries)', resource: readFixture('referral-message-bundle.json'), profileUrl: stepwiseProfileUrl('StepwiseReferralMessage') },
  ];

  const figures: Record<string, string | number> = {
    'R4 registry load + Stepwise profiles (ms, once per process)': Math.round(loadMs),
  };
  let slowestProfiledSpeedup = Infinity;
  for (const subject of subjects) {
    const plain = withoutProfiles(subject.resource);
    const medplumProfile = published.get(subject.profileUrl) as StructureDefinition;
    const bytes = JSON.stringify(subject.resource).length;

    const oursPlainErrors = validator.validate(plain).filter((i) => i.severity === 'error').length;
    const oursProfiledErrors = validator.validate(subject.resource).filter((i) => i.severity === 'error').length;
    const theirsPlainErrors = medplumErrors(plain);
    const theirsProfiledErrors = medplumErrors(subject.resource, medplumProfile);

    const [oursPlain, theirsPlain, oursProfiled, theirsProfiled] = bestRates([
      () => validator.validate(plain),
      () => medplumErrors(plain),
      () => validator.validate(subject.resource),
      () => medplumErrors(subject.resource, medplumProfile),
    ]);
    slowestProfiledSpeedup = Math.min(slowestProfiledSpeedup, oursProfiled / theirsProfiled);

    const label = `${subject.name}, ${bytes} bytes`;
    figures[`${label}: Stepwise, no profile (validations/s)`] = Math.round(oursPlain);
    figures[`${label}: medplum, no profile (validations/s)`] = Math.round(theirsPlain);
    figures[`${label}: speed-up, no profile`] = `${(oursPlain / theirsPlain).toFixed(1)}x`;
    figures[`${label}: Stepwise, with profile (validations/s)`] = Math.round(oursProfiled);
    figures[`${label}: medplum, with profile (validations/s)`] = Math.round(theirsProfiled);
    figures[`${label}: speed-up, with profile`] = `${(oursProfiled / theirsProfiled).toFixed(1)}x`;
    figures[`${label}: errors found (Stepwise/medplum), no profile`] = `${oursPlainErrors}/${theirsPlainErrors}`;
    figures[`${label}: errors found (Stepwise/medplum), with profile`] = `${oursProfiledErrors}/${theirsProfiledErrors}`;
  }
  figures['Lowest speed-up with profiles (target >= 4x)'] = `${slowestProfiledSpeedup.toFixed(1)}x`;
  for (const [name, resource] of Object.entries(invalidProbes)) {
    const ours = validator.validate(resource).filter((i) => i.severity === 'error').length;
    figures[`invalid: ${name}: errors found (Stepwise/medplum)`] = `${ours}/${medplumErrors(resource)}`;
  }
  return figures;
}

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateResource } from '@medplum/core';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { snapshotElements } from '../src/fhir/validation/snapshot.js';
import { createR4Validator } from '../src/fhir/validation/validator.js';

/**
 * Validations per second of Stepwise's validator and @medplum/core's validateResource on the same
 * resources in the same process: a referral ServiceRequest (~2.7 KB), a triage Task and a 20-entry
 * referral message Bundle, each without and with its test profile. Medplum gets the profile as a
 * StructureDefinition with a snapshot (it cannot use a differential) and re-parses it on every call,
 * which is how its API works. Each figure is the best of several timed rounds, interleaved.
 *
 * The "errors found" lines show both validators agree the fixtures are valid without profiles. With
 * profiles medplum reports false errors: a pattern[x] on a repeating element (category) and slices
 * discriminated by resource type (Bundle.entry), which it does not support.
 */
const validationDir = fileURLToPath(new URL('../src/fhir/validation/', import.meta.url));
const ROUND_MS = 400;
const ROUNDS = 5;

interface Subject {
  name: string;
  resource: Resource;
  profileUrl: string;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
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

export async function benchValidation(): Promise<Record<string, string | number>> {
  const loadStart = performance.now();
  const validator = createR4Validator();
  for (const file of readdirSync(`${validationDir}test-profiles`)) {
    validator.registry.addResource(readJson(`${validationDir}test-profiles/${file}`));
  }
  const loadMs = performance.now() - loadStart;

  const fixture = (name: string): Resource => readJson(`${validationDir}test-fixtures/${name}`);
  const subjects: Subject[] = [
    { name: 'ServiceRequest', resource: fixture('referral-service-request.json'), profileUrl: 'https://stepwise.example/fhir/StructureDefinition/TestReferralServiceRequest' },
    { name: 'Task', resource: fixture('triage-task.json'), profileUrl: 'https://stepwise.example/fhir/StructureDefinition/TestTriageTask' },
    { name: 'Bundle (20 entries)', resource: fixture('referral-message-bundle.json'), profileUrl: 'https://stepwise.example/fhir/StructureDefinition/TestReferralMessage' },
  ];

  const figures: Record<string, string | number> = {
    'R4 registry load + test profiles (ms, once per process)': Math.round(loadMs),
  };
  let slowestProfiledSpeedup = Infinity;
  for (const subject of subjects) {
    const plain = withoutProfiles(subject.resource);
    const sd = validator.registry.getStructureDefinition(subject.profileUrl) as StructureDefinition;
    const medplumProfile: StructureDefinition = { ...sd, snapshot: { element: snapshotElements(sd, validator.registry) } };
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
  return figures;
}

import type { Resource } from '@medplum/fhirtypes';
import { loadStepwiseConformance, readDependencies } from './stepwise-profiles.js';
import { createR4Validator, type Validator } from './validation/index.js';

let shared: Validator | undefined;

/**
 * The validator every write goes through: R4 (corrected to 4.0.1) plus the Stepwise profiles and
 * the UK Core resources they use, so `meta.profile` naming a Stepwise profile is checked. Built
 * once per process (a second or two).
 */
export function serverValidator(): Validator {
  shared ??= createServerValidator();
  return shared;
}

let builtIn: Resource[] | undefined;

/**
 * A new validator with what serverValidator holds (the built-in resources are read from disk once):
 * the base the server's StoredConformance (pipeline/stored-conformance.ts) rebuilds from whenever
 * stored profiles change.
 */
export function createServerValidator(): Validator {
  builtIn ??= [...readDependencies(), ...loadStepwiseConformance()];
  const validator = createR4Validator();
  for (const resource of builtIn) validator.registry.addResource(resource);
  return validator;
}

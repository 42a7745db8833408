import { addStepwiseProfiles } from './stepwise-profiles.js';
import { createR4Validator, type Validator } from './validation/index.js';

let shared: Validator | undefined;

/**
 * The validator every write goes through: R4 (corrected to 4.0.1) plus the Stepwise profiles and
 * the UK Core resources they use, so `meta.profile` naming a Stepwise profile is checked. Built
 * once per process (a second or two).
 */
export function serverValidator(): Validator {
  if (!shared) {
    shared = createR4Validator();
    addStepwiseProfiles(shared.registry);
  }
  return shared;
}

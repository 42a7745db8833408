import { runOutreachDeadline } from '../outreach/next-step.js';
import { runCadenceContact } from './cadence.js';
import { JobKind } from './codes.js';
import type { JobKinds } from './jobs.js';
import { runCarePlanReview } from './review.js';

/** Each kind of time-driven pathway work and its handler (run.ts calls it in the claiming transaction). */
export const JOB_KINDS: JobKinds = {
  [JobKind.cadenceContact]: runCadenceContact,
  [JobKind.carePlanReview]: runCarePlanReview,
  [JobKind.outreachDeadline]: runOutreachDeadline,
};

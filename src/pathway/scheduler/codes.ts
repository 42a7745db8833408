import { STEPWISE_CANONICAL_BASE } from '../../fhir/canonical.js';

const BASE = STEPWISE_CANONICAL_BASE;

export const SCHEDULER = {
  /** Task.identifier of a Task a scheduler job created: its value is the job's key, one Task per key. */
  jobKey: `${BASE}/Id/pathway-job`,
} as const;

/** The job kinds of kinds.ts. */
export const JobKind = {
  cadenceContact: 'cadence-contact',
  carePlanReview: 'care-plan-review',
  outreachDeadline: 'outreach-deadline',
} as const;

import type { CarePlan, Task } from '@medplum/fhirtypes';
import { takeNextOutreachStep } from '../outreach/next-step.js';
import { stampAttempt } from '../outreach/outcome.js';
import { isPathwayPlan } from '../care/care-plan.js';
import type { WritePolicy } from '../write-policies.js';
import { startCadences } from './cadence.js';
import { scheduleReview } from './review.js';

/**
 * The policies of time-driven work (registered in write-policies.ts): what a write schedules, in
 * the write's transaction, and what a missed contact sets off.
 */
export const TIME_DRIVEN_POLICIES: readonly WritePolicy[] = [
  {
    name: 'an active care plan schedules its cadence contacts and its review (pathway/scheduler)',
    types: ['CarePlan'],
    applies: isPathwayPlan,
    after: async (written, ctx) => {
      await startCadences(ctx.store, written as CarePlan, ctx.now);
      await scheduleReview(ctx.store, written as CarePlan);
    },
  },
  {
    name: 'every contact and outreach attempt is time-stamped with its outcome (pathway/outreach)',
    types: ['Task'],
    before: (next, previous, ctx) => stampAttempt(previous as Task | undefined, next as Task, ctx.now),
  },
  {
    name: 'a missed contact takes the next step of the outreach ladder (pathway/outreach)',
    types: ['Task'],
    after: (written, ctx) => takeNextOutreachStep(ctx, written as Task),
  },
];

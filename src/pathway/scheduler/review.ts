import type { CarePlan, Reference, Task } from '@medplum/fhirtypes';
import type { ResourceStore } from '../../store/resource-store.js';
import { reviewDateOf } from '../care/care-plan.js';
import { PATHWAY, TaskCode } from '../codes.js';
import { endOfLondonDay } from '../risk/same-day.js';
import type { PolicyContext } from '../write-policies.js';
import { onWorkingDay } from '../working-days.js';
import { ownerOf } from './cadence.js';
import { JobKind, SCHEDULER } from './codes.js';
import { scheduleJob, type ClaimedJob } from './jobs.js';

export interface ReviewPayload {
  carePlan: string;
  reviewDate: string;
}

/** One job per plan and review date: a new date is a new job, and the old one finds its date gone. */
export function reviewJobKey(carePlanId: string, reviewDate: string): string {
  return `review:CarePlan/${carePlanId}:${reviewDate}`;
}

/** Schedules the review of an active plan at its review date (a no-op when already scheduled). */
export async function scheduleReview(store: ResourceStore, plan: CarePlan): Promise<void> {
  const reviewDate = plan.status === 'active' ? reviewDateOf(plan) : undefined;
  if (!reviewDate) return;
  const payload: ReviewPayload = { carePlan: plan.id!, reviewDate };
  await scheduleJob(store, { kind: JobKind.carePlanReview, key: reviewJobKey(plan.id!, reviewDate), runAt: reviewStart(reviewDate), payload: { ...payload } });
}

/**
 * At the review date: a care-plan-review Task for the lead, due by the end of that day (of the
 * next working day, for a date that is not one), if the plan is still active and still has that
 * review date.
 */
export async function runCarePlanReview(ctx: PolicyContext, job: ClaimedJob): Promise<void> {
  const p = job.payload as unknown as ReviewPayload;
  const plan = (await ctx.store.readOrUndefined('CarePlan', p.carePlan)) as CarePlan | undefined;
  if (plan?.status !== 'active' || reviewDateOf(plan) !== p.reviewDate) return;
  const due = endOfLondonDay(onWorkingDay(reviewStart(p.reviewDate)));
  await ctx.create(reviewTask(plan, job.key, p.reviewDate, due, await ownerOf(ctx.store, plan), ctx.now));
}

/** The start of a review date: a date is its London day's first instant; a dateTime is itself. */
export function reviewStart(reviewDate: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(reviewDate)) return new Date(reviewDate);
  // the end of the London day before, plus the last second: midnight London, in either season
  const dayBefore = new Date(Date.parse(`${reviewDate}T12:00:00Z`) - 86_400_000);
  return new Date(endOfLondonDay(dayBefore).getTime() + 1000);
}

function reviewTask(plan: CarePlan, key: string, reviewDate: string, due: Date, owner: Reference | undefined, now: Date): Task {
  return {
    resourceType: 'Task',
    identifier: [{ system: SCHEDULER.jobKey, value: key }],
    status: 'ready',
    intent: 'order',
    priority: 'routine',
    code: { coding: [{ system: PATHWAY.taskCode, code: TaskCode.carePlanReview, display: 'Care plan review' }] },
    description: `Review the care plan: its review date is ${reviewDate}`,
    focus: { reference: `CarePlan/${plan.id}` },
    basedOn: [{ reference: `CarePlan/${plan.id}` }],
    for: plan.subject,
    authoredOn: now.toISOString(),
    ...(owner ? { owner: owner as Task['owner'] } : {}),
    restriction: { period: { start: reviewStart(reviewDate).toISOString(), end: due.toISOString() } },
  };
}

import type { CarePlan, CarePlanActivity, CodeableConcept, Period, Timing } from '@medplum/fhirtypes';
import type { Resource } from '@medplum/fhirtypes';
import { stepwiseProfileUrl } from '../../fhir/canonical.js';
import { PATHWAY } from '../codes.js';
import { CARE } from './codes.js';

/**
 * Whether a care plan is one of the pathway's, so that its rules apply: it claims our profile, or
 * uses the pathway's own terms (a level of support, a care activity, the review-date extension). A
 * GP's care plan that a referral carries is information, never judged by them.
 */
export function isPathwayPlan(plan: Resource): boolean {
  const p = plan as CarePlan;
  return (
    (p.meta?.profile ?? []).some((url) => url.split('|')[0] === stepwiseProfileUrl('StepwiseCarePlan')) ||
    (p.category ?? []).some((c) => c.coding?.some((x) => x.system === PATHWAY.levelOfSupport)) ||
    (p.activity ?? []).some((a) => a.detail?.code?.coding?.some((x) => x.system === CARE.careActivity)) ||
    (p.extension ?? []).some((e) => e.url === CARE.reviewDate)
  );
}

/**
 * One contact or review cadence of a care plan: a `CarePlan.activity.detail` with a code and a
 * `scheduledTiming.repeat` of frequency per period (e.g. 1 per 1 wk: weekly wellbeing contact;
 * 1 per 1 mo: monthly structured review). The scheduler turns each into contact Tasks.
 */
export interface Cadence {
  /**
   * Stable key of the activity within its plan: `CarePlan.activity.id`, which the care-plan policy
   * assigns to every cadence activity that has none, so reordering activities keeps the key.
   */
  key: string;
  code: CodeableConcept;
  /** Occurrences per period (Timing.repeat.frequency, default 1). */
  frequency: number;
  period: number;
  periodUnit: NonNullable<NonNullable<Timing['repeat']>['periodUnit']>;
  /** When the cadence runs (Timing.repeat.boundsPeriod); open-ended when absent. */
  bounds?: Period;
  description?: string;
  status: NonNullable<CarePlanActivity['detail']>['status'];
}

/** Activity statuses whose cadence no longer produces contacts. */
const ENDED = new Set(['completed', 'cancelled', 'stopped', 'entered-in-error']);

/**
 * The live cadences of a care plan (none when the plan itself is not active): activities with a
 * detail code and a repeat of frequency/period/periodUnit, whose status has not ended.
 */
export function cadencesOf(carePlan: CarePlan): Cadence[] {
  if (carePlan.status !== 'active') return [];
  const out: Cadence[] = [];
  (carePlan.activity ?? []).forEach((activity, index) => {
    const c = cadenceOf(activity, index);
    if (c && !ENDED.has(c.status)) out.push(c);
  });
  return out;
}

/** The cadence an activity declares, if it declares one (whatever its status). */
export function cadenceOf(activity: CarePlanActivity, index: number): Cadence | undefined {
  const detail = activity.detail;
  const repeat = detail?.scheduledTiming?.repeat;
  if (!detail?.code || !repeat?.period || !repeat.periodUnit) return undefined;
  return {
    key: activity.id ?? `activity-${index}`,
    code: detail.code,
    frequency: repeat.frequency ?? 1,
    period: repeat.period,
    periodUnit: repeat.periodUnit,
    ...(repeat.boundsPeriod ? { bounds: repeat.boundsPeriod } : {}),
    ...(detail.description ? { description: detail.description } : {}),
    status: detail.status,
  };
}

/**
 * The date the plan is next reviewed: the care-plan-review-date extension, a FHIR date
 * (YYYY-MM-DD, a London calendar day) or dateTime, as stored.
 */
export function reviewDateOf(carePlan: CarePlan): string | undefined {
  const ext = carePlan.extension?.find((e) => e.url === CARE.reviewDate);
  return ext?.valueDate ?? ext?.valueDateTime;
}

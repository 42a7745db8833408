import type { CarePlan, CareTeam } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, type IssueInit } from '../../errors.js';
import { parseSearch } from '../../fhir/search/parse.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { PATHWAY } from '../codes.js';
import { cadenceOf } from './care-plan.js';
import { accountableLeads, careTeamOf } from './care-team.js';
import { CARE } from './codes.js';

/** Levels of support a care plan can hold (level-of-support without `redirected`, which is a front-door outcome). */
export const PLAN_LEVELS = ['routine-support', 'intensive-input', 'crisis-response', 'step-down', 'ongoing-care'] as const;
export type PlanLevel = (typeof PLAN_LEVELS)[number];

/** The plan's level of support (its one level-of-support category), if it has exactly one. */
export function levelOf(plan: CarePlan): string | undefined {
  const codes = levelCodings(plan).map((c) => c.code);
  return codes.length === 1 ? codes[0] : undefined;
}

function levelCodings(plan: CarePlan) {
  return (plan.category ?? []).flatMap((c) => c.coding ?? []).filter((c) => c.system === PATHWAY.levelOfSupport);
}

/**
 * The shape of an active care plan that needs nothing but the plan itself: exactly one level of
 * support a plan can hold, a care team, each cadence activity coded with a whole repeat, a review
 * date that is a date. One issue per fault.
 */
export function carePlanShapeIssues(plan: CarePlan): IssueInit[] {
  if (plan.status !== 'active') return [];
  const issues: IssueInit[] = [];
  const levels = levelCodings(plan);
  if (levels.length !== 1) {
    issues.push(issue('CarePlan.category', `An active care plan has exactly one level of support (a category from ${PATHWAY.levelOfSupport}); it has ${levels.length}`));
  } else if (!(PLAN_LEVELS as readonly string[]).includes(levels[0].code ?? '')) {
    issues.push(issue('CarePlan.category', `'${levels[0].code}' is not a level of support a care plan can hold (one of ${PLAN_LEVELS.join(', ')})`));
  }
  if (!plan.careTeam?.some((r) => r.reference)) issues.push(issue('CarePlan.careTeam', 'An active care plan names its care team (CarePlan.careTeam), which holds the one accountable lead'));
  (plan.activity ?? []).forEach((a, i) => issues.push(...cadenceIssues(a, i)));
  const review = plan.extension?.filter((e) => e.url === CARE.reviewDate) ?? [];
  if (review.length > 1 || review.some((e) => !e.valueDate && !e.valueDateTime)) {
    issues.push(issue(`CarePlan.extension('${CARE.reviewDate}')`, 'The review date is one care-plan-review-date extension with a valueDate or valueDateTime'));
  }
  return issues;
}

/** A repeat on an activity makes it a cadence: it needs a code, a period, a unit and a positive frequency. */
function cadenceIssues(activity: NonNullable<CarePlan['activity']>[number], i: number): IssueInit[] {
  const repeat = activity.detail?.scheduledTiming?.repeat;
  if (!repeat) return [];
  const at = `CarePlan.activity[${i}].detail`;
  const out: IssueInit[] = [];
  if (!activity.detail?.code) out.push(issue(`${at}.code`, 'A cadence activity says what the contact is (detail.code), e.g. weekly-wellbeing-contact'));
  if (!repeat.period || repeat.period <= 0) out.push(issue(`${at}.scheduledTiming.repeat.period`, 'A cadence has a positive period (e.g. 1)'));
  if (!repeat.periodUnit) out.push(issue(`${at}.scheduledTiming.repeat.periodUnit`, 'A cadence has a period unit (d, wk, mo)'));
  if (repeat.frequency !== undefined && repeat.frequency <= 0) out.push(issue(`${at}.scheduledTiming.repeat.frequency`, 'A cadence has a positive frequency'));
  return out;
}

/**
 * Gives every cadence activity a stable id (cadence-1, cadence-2, …) so the scheduler's key for it
 * survives reordering; ids already there are kept.
 */
export function withCadenceIds(plan: CarePlan): CarePlan {
  if (!plan.activity?.some((a, i) => !a.id && cadenceOf(a, i))) return plan;
  const taken = new Set(plan.activity.map((a) => a.id).filter(Boolean));
  let n = 0;
  const nextId = (): string => {
    do n++;
    while (taken.has(`cadence-${n}`));
    return `cadence-${n}`;
  };
  return { ...plan, activity: plan.activity.map((a, i) => (a.id || !cadenceOf(a, i) ? a : { ...a, id: nextId() })) };
}

/** An active plan's care team exists and has exactly one accountable lead. */
export async function checkPlanLead(store: ResourceStore, plan: CarePlan): Promise<void> {
  if (plan.status !== 'active') return;
  const team = await careTeamOf(store, plan);
  if (!team) throw unprocessable(issue('CarePlan.careTeam', `The care team of CarePlan/${plan.id} (${plan.careTeam?.map((r) => r.reference).join(', ')}) is not stored: write the CareTeam first`));
  checkOneLead(team, `CarePlan/${plan.id}`);
}

/** A care team of an active plan has exactly one accountable lead; no team ever has two. */
export async function checkTeamLead(store: ResourceStore, team: CareTeam): Promise<void> {
  const leads = accountableLeads(team).length;
  if (leads > 1) checkOneLead(team, 'any care plan');
  if (leads === 1) return;
  const plans = await store.matches(parseSearch('CarePlan', [['care-team', `CareTeam/${team.id}`], ['status', 'active']]));
  if (plans.length) checkOneLead(team, `CarePlan/${plans[0].id}`);
}

function checkOneLead(team: CareTeam, of: string): void {
  const leads = accountableLeads(team).length;
  if (leads === 1) return;
  throw unprocessable(
    issue(
      'CareTeam.participant',
      `CareTeam/${team.id} of ${of} must have exactly one accountable lead (participant.role ${CARE.careTeamRole}#accountable-lead); it has ${leads}`,
    ),
  );
}

export function issue(expression: string, message: string): IssueInit {
  return { code: 'business-rule', expression, message };
}

export function unprocessable(issues: IssueInit | IssueInit[]): FhirError {
  return new FhirError(FhirErrorCode.UNPROCESSABLE, issues);
}

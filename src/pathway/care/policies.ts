import type { CarePlan, CareTeam, Task } from '@medplum/fhirtypes';
import { isRedirect, isTriageTask, triageLevelOf } from '../redirect-check.js';
import type { WritePolicy } from '../write-policies.js';
import { carePlanShapeIssues, checkPlanLead, checkTeamLead, PLAN_LEVELS, unprocessable, withCadenceIds } from './care-plan-rules.js';
import { isPathwayPlan } from './care-plan.js';
import { openOrUpdatePlan } from './open-plan.js';

/** Care plans and care teams (domain.md: exactly one level and one accountable lead at every moment). */
export const CARE_POLICIES: readonly WritePolicy[] = [
  {
    name: 'an active care plan has one level of support, a care team, whole cadences and a review date that is a date',
    types: ['CarePlan'],
    applies: isPathwayPlan,
    before: (next) => {
      const issues = carePlanShapeIssues(next as CarePlan);
      if (issues.length) throw unprocessable(issues);
      return withCadenceIds(next as CarePlan);
    },
  },
  {
    name: 'an active care plan has exactly one accountable lead on its care team',
    types: ['CarePlan'],
    applies: isPathwayPlan,
    after: (written, ctx) => checkPlanLead(ctx.store, written as CarePlan),
  },
  {
    name: 'a care team of an active plan has exactly one accountable lead',
    types: ['CareTeam'],
    after: (written, ctx) => checkTeamLead(ctx.store, written as CareTeam),
  },
  {
    name: 'a referral triaged to a level of support opens the care plan with the lead the rule assigned',
    types: ['Task'],
    after: async (written, ctx) => {
      const task = written as Task;
      const level = triagedLevel(task);
      if (!level || !task.for?.reference?.startsWith('Patient/') || !task.owner) return;
      await openOrUpdatePlan(ctx, { patient: task.for, level, lead: task.owner, leadRole: task.performerType?.[0], because: { reference: `Task/${task.id}` } });
    },
  },
];

/** The level of support a completed triage decided (its triage-outcome output), unless it redirected. */
function triagedLevel(task: Task): string | undefined {
  if (!isTriageTask(task) || task.status !== 'completed' || isRedirect(task)) return undefined;
  const code = triageLevelOf(task);
  return code && (PLAN_LEVELS as readonly string[]).includes(code) ? code : undefined;
}


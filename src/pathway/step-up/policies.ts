import type { Provenance, Reference, Task } from '@medplum/fhirtypes';
import { PATHWAY, TaskCode } from '../codes.js';
import type { PolicyContext, WritePolicy } from '../write-policies.js';
import { issue, unprocessable } from '../care/care-plan-rules.js';
import { findActiveCarePlan } from '../care/care-team.js';
import { CARE } from '../care/codes.js';
import { levelCode, openOrUpdatePlan } from '../care/open-plan.js';
import { localId } from '../referral-context.js';
import { Decision, decisionIssues, decisionOf, DecisionOutput, outputOf, stepUpLevel } from './decision.js';
import { missingSharedLanguage } from './shared-language.js';

export function isEscalation(task: Task): boolean {
  return task.code?.coding?.some((c) => c.system === PATHWAY.taskCode && c.code === TaskCode.escalation) ?? false;
}

/** An escalation the server opened itself (openSameDayEscalation): its key identifier names its focus. */
export function isServerOpened(task: Task): boolean {
  return task.identifier?.some((i) => i.system === CARE.escalationKey && i.value !== undefined && i.value === task.focus?.reference) ?? false;
}

/** Step-up (domain.md): the shared language, the clinician's decision, and the level it changes. */
export const STEP_UP_POLICIES: readonly WritePolicy[] = [
  {
    name: 'an escalation speaks the shared language when raised and before its decision; a decision carries what it needs',
    types: ['Task'],
    before: (next, previous) => {
      const task = next as Task;
      if (!isEscalation(task)) return next;
      const deciding = task.status === 'completed' && (previous as Task | undefined)?.status !== 'completed';
      const raisedByClinician = !previous && !isServerOpened(task);
      const issues = deciding || raisedByClinician ? sharedLanguageIssues(task) : [];
      if (deciding) issues.push(...decisionIssues(task));
      if (issues.length) throw unprocessable(issues);
      return next;
    },
  },
  {
    name: 'an accepted escalation steps the level of support up, with a Provenance',
    types: ['Task'],
    after: async (written, ctx) => {
      const task = written as Task;
      if (isEscalation(task) && task.status === 'completed' && decisionOf(task) === Decision.accept) await stepUp(ctx, task);
    },
  },
];

function sharedLanguageIssues(task: Task) {
  return missingSharedLanguage(task).map((part) =>
    issue(`Task.input.where(type.coding.code = '${part.code}')`, `An escalation needs '${part.display}' (Task.input of type ${PATHWAY.taskParameterType}#${part.code} with a valueString)`),
  );
}

/**
 * Moves the person's plan to the level the decision names (else the next level up), keeping its
 * lead, or opens one led by the deciding clinician; once per escalation. The Provenance names who
 * decided, the activity and the action plan as the reason.
 */
async function stepUp(ctx: PolicyContext, task: Task): Promise<void> {
  const patientId = localId(task.for, 'Patient');
  if (!patientId) return;
  const before = await findActiveCarePlan(ctx.store, patientId);
  const named = outputOf(task, DecisionOutput.levelOfSupport)?.valueCodeableConcept?.coding?.find((c) => c.system === PATHWAY.levelOfSupport)?.code;
  const level = named ?? stepUpLevel(before ? levelCode(before) : undefined);
  const decider = task.owner ?? task.requester;
  if (!decider) throw unprocessable(issue('Task.owner', 'An escalation is decided by its named clinician (Task.owner)'));
  const { plan, changed } = await openOrUpdatePlan(ctx, { patient: task.for!, level, lead: decider, keepLead: true, because: { reference: `Task/${task.id}` } });
  if (changed) await ctx.create(stepUpProvenance(task, plan.id!, plan.meta?.versionId, decider, before ? levelCode(before) : undefined, level, ctx.now));
}

function stepUpProvenance(task: Task, planId: string, version: string | undefined, who: Reference, from: string | undefined, to: string, now: Date): Provenance {
  const actionPlan = outputOf(task, DecisionOutput.actionPlan)?.valueString ?? '';
  return {
    resourceType: 'Provenance',
    target: [{ reference: `CarePlan/${planId}${version ? `/_history/${version}` : ''}` }],
    recorded: now.toISOString(),
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: from ? 'UPDATE' : 'CREATE' }], text: `Step-up: ${from ?? 'no plan'} → ${to}` },
    reason: [{ text: `Escalation accepted (Task/${task.id}). Action plan: ${actionPlan}` }],
    agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }] }, who: who as Provenance['agent'][number]['who'] }],
    entity: [{ role: 'source', what: { reference: `Task/${task.id}` } }],
  };
}

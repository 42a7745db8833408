import type { Task, TaskOutput } from '@medplum/fhirtypes';
import type { IssueInit } from '../../errors.js';
import { PATHWAY } from '../codes.js';
import { issue } from '../care/care-plan-rules.js';
import { STEPWISE_CANONICAL_BASE } from '../../fhir/canonical.js';

/** The clinician's decision on an escalation (Task.output escalation-decision, valueCodeableConcept). */
export const ESCALATION_DECISION = `${STEPWISE_CANONICAL_BASE}/CodeSystem/escalation-decision`;
export const Decision = { accept: 'accept', decline: 'decline' } as const;

/** Task.output types (task-parameter-type) of a decision. */
export const DecisionOutput = {
  decision: 'escalation-decision',
  actionPlan: 'action-plan',
  mdtReviewDate: 'mdt-review-date',
  outOfHours: 'out-of-hours-contingency',
  declineRationale: 'decline-rationale',
  /** Optional on an accept: the level of support stepped up to (else the next level up, see stepUpLevel). */
  levelOfSupport: 'level-of-support',
} as const;

/** What each decision needs besides itself (domain.md, Step-up), with how to give it. */
const NEEDS: Record<string, { code: string; what: string; given: (o: TaskOutput) => boolean }[]> = {
  [Decision.accept]: [
    { code: DecisionOutput.actionPlan, what: 'an action plan (valueString), e.g. more frequent contact, urgent clinical review, medication liaison, crisis interface', given: (o) => nonBlank(o.valueString) || nonBlank(o.valueMarkdown) },
    { code: DecisionOutput.mdtReviewDate, what: 'an MDT review date (valueDate or valueDateTime)', given: (o) => Boolean(o.valueDate || o.valueDateTime) },
    { code: DecisionOutput.outOfHours, what: 'an out-of-hours contingency (valueString)', given: (o) => nonBlank(o.valueString) || nonBlank(o.valueMarkdown) },
  ],
  [Decision.decline]: [{ code: DecisionOutput.declineRationale, what: 'a rationale for declining (valueString)', given: (o) => nonBlank(o.valueString) || nonBlank(o.valueMarkdown) }],
};

export function outputOf(task: Task, code: string): TaskOutput | undefined {
  return task.output?.find((o) => o.type?.coding?.some((c) => c.system === PATHWAY.taskParameterType && c.code === code));
}

export function decisionOf(task: Task): string | undefined {
  return outputOf(task, DecisionOutput.decision)?.valueCodeableConcept?.coding?.find((c) => c.system === ESCALATION_DECISION)?.code;
}

/** The issues of a decision being recorded: none, or one per missing output. */
export function decisionIssues(task: Task): IssueInit[] {
  const at = (code: string) => `Task.output.where(type.coding.code = '${code}')`;
  const decision = decisionOf(task);
  if (!decision || !NEEDS[decision]) {
    return [issue(at(DecisionOutput.decision), `The decision on an escalation is a Task.output of type ${DecisionOutput.decision} with valueCodeableConcept ${ESCALATION_DECISION}#accept or #decline`)];
  }
  return NEEDS[decision].filter((need) => !task.output?.some((o) => o.type?.coding?.some((c) => c.system === PATHWAY.taskParameterType && c.code === need.code) && need.given(o))).map((need) => issue(at(need.code), `A decision to ${decision} needs ${need.what}`));
}

/** The level a step-up moves to when the decision names none. */
export function stepUpLevel(current: string | undefined): string {
  return current === 'intensive-input' || current === 'crisis-response' ? 'crisis-response' : 'intensive-input';
}

function nonBlank(s: string | undefined): boolean {
  return typeof s === 'string' && s.trim().length > 0;
}

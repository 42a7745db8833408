import type { Task, TaskInput, Timing } from '@medplum/fhirtypes';
import type { IssueInit } from '../../errors.js';
import { PATHWAY } from '../codes.js';
import { issue } from '../care/care-plan-rules.js';
import { CARE } from '../care/codes.js';

/**
 * The transition plan of a handover (domain.md, Step-down and handover): four Task.input parts
 * typed by task-parameter-type. Contact frequency may be a Timing (its repeat then schedules the
 * first 14 days of contacts) or words.
 */
export const TRANSITION_PARTS = [
  { code: 'medication-actions', what: 'medication actions (valueString)' },
  { code: 'safety-measures', what: 'immediate safety measures (valueString)' },
  { code: 'contact-frequency', what: 'contact frequency for the next 14 days (valueTiming with a repeat, or valueString)' },
  { code: 'red-flag-thresholds', what: 'red-flag thresholds that trigger same-day escalation (valueString)' },
] as const;

/** The transition checklist (handover-checklist): each true, or carer contact not appropriate with a reason. */
export const CHECKLIST_ITEMS = [
  { code: 'appointments-booked', what: 'appointments booked (valueBoolean true)' },
  { code: 'support-hours-adjusted', what: 'support hours adjusted (valueBoolean true)' },
  { code: 'risk-plan-updated', what: 'risk plan updated (valueBoolean true)' },
  { code: 'carer-contact-agreed', what: 'carer contact agreed (valueBoolean true), or a valueString giving the reason it is not appropriate' },
] as const;

function inputOf(task: Task, system: string, code: string): TaskInput | undefined {
  return task.input?.find((i) => i.type?.coding?.some((c) => c.system === system && c.code === code));
}

const where = (code: string) => `Task.input.where(type.coding.code = '${code}')`;

/** One issue per transition-plan part the handover lacks. */
export function transitionPlanIssues(task: Task): IssueInit[] {
  return TRANSITION_PARTS.filter((part) => !given(inputOf(task, PATHWAY.taskParameterType, part.code))).map((part) =>
    issue(where(part.code), `A handover's transition plan needs ${part.what}: Task.input of type ${PATHWAY.taskParameterType}#${part.code}`),
  );
}

/** One issue per checklist item not yet done. */
export function checklistIssues(task: Task): IssueInit[] {
  return CHECKLIST_ITEMS.filter((item) => !done(inputOf(task, CARE.handoverChecklist, item.code))).map((item) =>
    issue(where(item.code), `The handover cannot complete until its checklist is: ${item.what} (Task.input of type ${CARE.handoverChecklist}#${item.code})`),
  );
}

/** The contact frequency of the first 14 days, when given as a Timing. */
export function contactTiming(task: Task): Timing | undefined {
  return inputOf(task, PATHWAY.taskParameterType, 'contact-frequency')?.valueTiming;
}

function given(i: TaskInput | undefined): boolean {
  if (!i) return false;
  if (i.valueTiming) return Boolean(i.valueTiming.repeat?.period && i.valueTiming.repeat.periodUnit);
  return nonBlank(i.valueString) || nonBlank(i.valueMarkdown) || Boolean(i.valueReference?.reference);
}

function done(i: TaskInput | undefined): boolean {
  return i?.valueBoolean === true || nonBlank(i?.valueString);
}

function nonBlank(s: string | undefined): boolean {
  return typeof s === 'string' && s.trim().length > 0;
}

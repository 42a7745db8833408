import type { Task, TaskOutput } from '@medplum/fhirtypes';
import { STEPWISE_CANONICAL_BASE } from '../../fhir/canonical.js';
import { PATHWAY, TaskCode } from '../codes.js';

import { ladderIndex } from './ladder.js';

/** Task.output of a contact or an outreach attempt: what came of it (CodeSystem contact-outcome). */
export const CONTACT_OUTCOME = {
  system: `${STEPWISE_CANONICAL_BASE}/CodeSystem/contact-outcome`,
  /** The task-parameter-type code of the output. */
  outputType: 'contact-outcome',
} as const;

export const ContactOutcome = {
  made: 'contact-made',
  didNotAttend: 'did-not-attend',
  notDoneInTime: 'not-done-in-time',
} as const;
export type ContactOutcome = (typeof ContactOutcome)[keyof typeof ContactOutcome];

/** Task codes of a contact with the person: a cadence contact, or the first contact after crisis care. */
const CONTACT_CODES: readonly string[] = [TaskCode.contact, TaskCode.firstContact];

/**
 * Where a Task stands on the outreach ladder: -1 for a contact (a miss starts the ladder), the
 * step's index for an outreach attempt, undefined for any other Task.
 */
export function ladderPlace(task: Task): number | undefined {
  const code = task.code?.coding?.find((c) => c.system === PATHWAY.taskCode)?.code;
  if (!code) return undefined;
  if (CONTACT_CODES.includes(code)) return -1;
  const i = ladderIndex(code);
  return i === -1 ? undefined : i;
}

export function outcomeOf(task: Task): ContactOutcome | undefined {
  const output = task.output?.find(isOutcomeOutput);
  return output?.valueCodeableConcept?.coding?.find((c) => c.system === CONTACT_OUTCOME.system)?.code as ContactOutcome | undefined;
}

/**
 * A missed contact or a failed attempt: the Task ended `failed`, or `completed` with an outcome
 * that is not contact made (did not attend, not done in time).
 */
export function isMissed(task: Task): boolean {
  if (task.status === 'failed') return true;
  const outcome = outcomeOf(task);
  return task.status === 'completed' && outcome !== undefined && outcome !== ContactOutcome.made;
}

export function outcomeOutput(code: ContactOutcome): TaskOutput {
  return {
    type: { coding: [{ system: PATHWAY.taskParameterType, code: CONTACT_OUTCOME.outputType }] },
    valueCodeableConcept: { coding: [{ system: CONTACT_OUTCOME.system, code }] },
  };
}

/**
 * Every attempt is time-stamped with its outcome (domain.md: "Each attempt time-stamped"): when a
 * contact or an outreach attempt starts, `executionPeriod.start` is now; when it ends (completed or
 * failed), `executionPeriod.end` is now and, unless the worker gave one, the outcome is contact
 * made (completed) or did not attend (failed). What the writer sent is kept.
 */
export function stampAttempt(previous: Task | undefined, next: Task, now: Date): Task {
  if (ladderPlace(next) === undefined || previous?.status === next.status) return next;
  const at = now.toISOString();
  if (next.status === 'in-progress') return { ...next, executionPeriod: { ...next.executionPeriod, start: next.executionPeriod?.start ?? at } };
  if (next.status !== 'completed' && next.status !== 'failed') return next;
  const end = next.executionPeriod?.end ?? at;
  const stamped: Task = { ...next, executionPeriod: { ...next.executionPeriod, start: next.executionPeriod?.start ?? end, end } };
  if (outcomeOf(next) !== undefined) return stamped;
  const outcome = next.status === 'completed' ? ContactOutcome.made : ContactOutcome.didNotAttend;
  return { ...stamped, output: [...(next.output ?? []), outcomeOutput(outcome)] };
}

function isOutcomeOutput(o: TaskOutput): boolean {
  return o.type?.coding?.some((c) => c.system === PATHWAY.taskParameterType && c.code === CONTACT_OUTCOME.outputType) ?? false;
}

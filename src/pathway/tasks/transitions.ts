import type { Task } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { PATHWAY } from '../codes.js';

type Status = Task['status'];

/**
 * The Task statuses a Stepwise Task may move to from each status: the FHIR R4 Task state machine
 * (http://hl7.org/fhir/R4/task.html#statemachine) as the pathway works it. A Task waiting for
 * information is put on hold and resumes; work can be released back to the queue; completed,
 * cancelled, failed and rejected are final, and entered-in-error is the only way out of them.
 * Read by `checkTaskTransition` for every write of a Task of ours, whatever its route.
 */
export const TASK_TRANSITIONS: Readonly<Record<Status, readonly Status[]>> = {
  draft: ['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold', 'cancelled', 'entered-in-error'],
  requested: ['received', 'accepted', 'rejected', 'ready', 'in-progress', 'on-hold', 'completed', 'cancelled', 'entered-in-error'],
  received: ['requested', 'accepted', 'rejected', 'ready', 'in-progress', 'on-hold', 'completed', 'cancelled', 'entered-in-error'],
  accepted: ['requested', 'ready', 'in-progress', 'on-hold', 'completed', 'failed', 'cancelled', 'entered-in-error'],
  ready: ['requested', 'in-progress', 'on-hold', 'completed', 'failed', 'cancelled', 'entered-in-error'],
  'in-progress': ['requested', 'on-hold', 'completed', 'failed', 'cancelled', 'entered-in-error'],
  'on-hold': ['requested', 'received', 'accepted', 'ready', 'in-progress', 'completed', 'failed', 'cancelled', 'entered-in-error'],
  completed: ['entered-in-error'],
  cancelled: ['entered-in-error'],
  failed: ['entered-in-error'],
  rejected: ['entered-in-error'],
  'entered-in-error': [],
};

/** Whether a status is final: the table lets a Task leave it for entered-in-error at most. */
export function isFinalTaskStatus(status: Status): boolean {
  return TASK_TRANSITIONS[status].every((next) => next === 'entered-in-error');
}

/** Whether a Task is one of the pathway's own (its code from the Stepwise task-code system). */
export function isPathwayTask(task: Task): boolean {
  return task.code?.coding?.some((c) => c.system === PATHWAY.taskCode) ?? false;
}

/**
 * Refuses a status change the table does not allow: 409, naming the allowed ones. A write that
 * keeps the status, or a new Task, passes.
 */
export function checkTaskTransition(previous: Task | undefined, next: Task): void {
  if (!previous || previous.status === next.status) return;
  const allowed = TASK_TRANSITIONS[previous.status] ?? [];
  if (allowed.includes(next.status)) return;
  throw new FhirError(FhirErrorCode.CONFLICT, {
    code: 'business-rule',
    expression: 'Task.status',
    message: `Task/${previous.id} cannot go from '${previous.status}' to '${next.status}'; from '${previous.status}' it can go to ${allowed.length ? allowed.map((s) => `'${s}'`).join(', ') : 'nothing: it is final'}`,
  });
}

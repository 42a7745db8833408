import type { Task, TaskOutput } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, type IssueInit } from '../../errors.js';

import { PATHWAY, TaskCode } from '../codes.js';
import { checkRedirect } from '../redirect-check.js';

/** One output a Task must carry before it completes: its Task.output type and what it records. */
export interface RequiredOutput {
  /** The code of Task.output.type (task-parameter-type, unless `system` says otherwise). */
  code: string;
  system?: string;
  what: string;
}

/**
 * What `$complete` requires of a Task, by its code (task-code). Add a row for a new kind of
 * work; a code without a row completes with whatever outputs it has.
 * - triage: the triage outcome (the level of support, or redirected). A redirected triage also
 *   needs its three redirect parts (redirect-check.ts), checked by the write policies too.
 * - clarify-referral: none. The call's result is the information that arrives (the referral is
 *   re-screened), not an output of the call; a note may say what happened.
 * - senior-oversight: none of its own. The senior's decision is the triage Task's outcome.
 */
export const REQUIRED_OUTPUTS: Record<string, readonly RequiredOutput[]> = {
  [TaskCode.triage]: [{ code: 'triage-outcome', what: 'the triage outcome: the level of support, or redirected (valueCodeableConcept)' }],
  [TaskCode.clarify]: [],
  [TaskCode.seniorOversight]: [],
  // what an accept or a decline needs besides the decision is checked by the step-up policy (step-up/decision.ts)
  [TaskCode.escalation]: [{ code: 'escalation-decision', what: 'the decision: accept or decline (valueCodeableConcept from escalation-decision)' }],
  // a handover completes on its checklist (Task.input), checked by the handover policy
  [TaskCode.handover]: [],
};

/** The pathway code of a Task (task-code), if it has one. */
export function taskCodeOf(task: Task): string | undefined {
  return task.code?.coding?.find((c) => c.system === PATHWAY.taskCode)?.code;
}

/** The outputs the Task's code requires that it does not carry yet. */
export function missingOutputs(task: Task): readonly RequiredOutput[] {
  const code = taskCodeOf(task);
  const required = code ? (REQUIRED_OUTPUTS[code] ?? []) : [];
  return required.filter((r) => !(task.output ?? []).some((o) => isOfType(o, r) && hasValue(o)));
}

/**
 * Refuses to complete a Task that lacks an output its code requires: 422, one issue per missing
 * output, naming where it may be given (an `output` part of the $complete Parameters). A triage
 * Task that is a redirect must also carry the redirect's three parts.
 */
export function checkRequiredOutputs(task: Task): void {
  const issues: IssueInit[] = missingOutputs(task).map((r) => ({
    message: `Task/${task.id} (${taskCodeOf(task)}) cannot complete without ${r.what}: give it as an 'output' part of type ${r.system ?? PATHWAY.taskParameterType}|${r.code}`,
    expression: "Parameters.parameter.where(name = 'output')",
    code: 'required',
  }));
  if (issues.length) throw new FhirError(FhirErrorCode.UNPROCESSABLE, issues);
  checkRedirect({ ...task, status: 'completed' });
}

function isOfType(o: TaskOutput, r: RequiredOutput): boolean {
  return o.type?.coding?.some((c) => c.system === (r.system ?? PATHWAY.taskParameterType) && c.code === r.code) ?? false;
}

/** Whether an output carries a value (any value[x]). */
function hasValue(o: TaskOutput): boolean {
  return Object.keys(o).some((k) => k.startsWith('value') && (o as unknown as Record<string, unknown>)[k] !== undefined);
}

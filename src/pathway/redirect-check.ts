import type { Coding, Task, TaskOutput } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, type IssueInit } from '../errors.js';
import { PATHWAY, TaskCode, TriageStatus } from './codes.js';

/** The three parts a redirect needs (domain.md, "The single front door", 5), as Task.output types. */
export const REDIRECT_PARTS = [
  { code: 'rationale', what: 'a written rationale (Task.output of type redirect-output#rationale with a non-blank valueString or valueMarkdown)' },
  { code: 'signposted-to', what: 'the service the person is signposted to (Task.output of type redirect-output#signposted-to with a valueReference or a non-blank valueString)' },
  { code: 'escalation-routes-given', what: 'confirmation that urgent escalation routes were given (Task.output of type redirect-output#escalation-routes-given with valueBoolean true)' },
] as const;

export function isTriageTask(task: Task): boolean {
  return task.code?.coding?.some((c) => c.system === PATHWAY.taskCode && c.code === TaskCode.triage) ?? false;
}

/** The level of support a triage Task's outcome names (its triage-outcome output), if it has one. */
export function triageLevelCoding(task: Task): Coding | undefined {
  const outcome = task.output?.find((o) => o.type?.coding?.some((c) => c.system === PATHWAY.taskParameterType && c.code === 'triage-outcome'));
  return outcome?.valueCodeableConcept?.coding?.find((c) => c.system === PATHWAY.levelOfSupport);
}

export const triageLevelOf = (task: Task): string | undefined => triageLevelCoding(task)?.code;

/** A triage Task whose business status, or triage outcome, is a redirect. */
export function isRedirect(task: Task): boolean {
  const status = task.businessStatus?.coding?.some((c) => c.system === PATHWAY.triageStatus && c.code === TriageStatus.redirected) ?? false;
  const outcome = (task.output ?? []).some(
    (o) => o.type?.coding?.some((c) => c.system === PATHWAY.taskParameterType && c.code === 'triage-outcome') && o.valueCodeableConcept?.coding?.some((c) => c.system === PATHWAY.levelOfSupport && c.code === 'redirected'),
  );
  return status || outcome;
}

/** The parts a redirect still lacks; empty when it may complete. */
export function missingRedirectParts(task: Task): (typeof REDIRECT_PARTS)[number][] {
  return REDIRECT_PARTS.filter((part) => !(task.output ?? []).some((o) => ofType(o, part.code) && satisfies(o, part.code)));
}

/**
 * The check the Task write path runs: a triage Task cannot complete as a redirect without all
 * three parts. Anything less is a 422 with one issue per missing part.
 */
export function checkRedirect(task: Task): void {
  if (!isTriageTask(task) || task.status !== 'completed' || !isRedirect(task)) return;
  const missing = missingRedirectParts(task);
  if (missing.length === 0) return;
  const issues: IssueInit[] = missing.map((part) => ({
    message: `A redirect cannot complete without ${part.what}`,
    expression: 'Task.output',
    code: 'business-rule',
  }));
  throw new FhirError(FhirErrorCode.UNPROCESSABLE, issues);
}

function ofType(o: TaskOutput, code: string): boolean {
  return o.type?.coding?.some((c) => c.system === PATHWAY.redirectOutput && c.code === code) ?? false;
}

function satisfies(o: TaskOutput, code: string): boolean {
  switch (code) {
    case 'rationale':
      return nonBlank(o.valueString) || nonBlank(o.valueMarkdown);
    case 'signposted-to':
      return nonBlank(o.valueReference?.reference) || nonBlank(o.valueReference?.display) || o.valueReference?.identifier !== undefined || nonBlank(o.valueString);
    case 'escalation-routes-given':
      return o.valueBoolean === true;
    default:
      return false;
  }
}

function nonBlank(s: string | undefined): boolean {
  return typeof s === 'string' && s.trim().length > 0;
}

import type { Task } from '@medplum/fhirtypes';
import { PATHWAY, TriageStatus } from './codes.js';
import { isRedirect, isTriageTask } from './redirect-check.js';

/**
 * Time to triage (domain.md measure): recorded when a triage Task becomes completed, as
 * Task.executionPeriod from receipt (authoredOn, unless the client set a start) to completion
 * (now, unless the client set an end), and an extension time-to-triage with the minutes from
 * authoredOn to that end. Both are plain data on the Task, so a MeasureReport or a `period`
 * search over completed Tasks can read them.
 */
export function stampTriageCompletion(previous: Task | undefined, next: Task, now: Date): Task {
  if (!isTriageTask(next) || next.status !== 'completed' || previous?.status === 'completed') return next;
  const end = next.executionPeriod?.end ?? now.toISOString();
  const start = next.executionPeriod?.start ?? next.authoredOn;
  const stamped: Task = { ...next, executionPeriod: { ...(start ? { start } : {}), ...(next.executionPeriod ?? {}), end } };
  const received = next.authoredOn ? Date.parse(next.authoredOn) : NaN;
  if (!Number.isNaN(received)) {
    const minutes = Math.max(0, Math.round((Date.parse(end) - received) / 60_000));
    stamped.extension = [
      ...(next.extension ?? []).filter((e) => e.url !== PATHWAY.timeToTriage),
      { url: PATHWAY.timeToTriage, valueDuration: { value: minutes, unit: 'min', system: 'http://unitsofmeasure.org', code: 'min' } },
    ];
  }
  const status = next.businessStatus?.coding?.find((c) => c.system === PATHWAY.triageStatus)?.code;
  if (!isRedirect(next) && status !== TriageStatus.triaged) stamped.businessStatus = { coding: [{ system: PATHWAY.triageStatus, code: TriageStatus.triaged }] };
  return stamped;
}

import type { Reference, Task } from '@medplum/fhirtypes';
import { PATHWAY } from '../codes.js';
import { localId } from '../referral-context.js';
import { openSameDayEscalation } from '../risk/escalation.js';
import { JobKind } from '../scheduler/codes.js';
import { once, scheduleJob, type ClaimedJob } from '../scheduler/jobs.js';
import { TASK_TRANSITIONS, isFinalTaskStatus } from '../tasks/transitions.js';
import type { PolicyContext } from '../write-policies.js';
import { OUTREACH_LADDER, type OutreachAttempt } from './ladder.js';
import { ContactOutcome, isMissed, ladderPlace, outcomeOutput } from './outcome.js';
import { riskIndicators } from './risk-indicators.js';

/** The job that fails an attempt not done by its due time. */
export function deadlineJobKey(taskId: string): string {
  return `outreach-deadline:Task/${taskId}`;
}

/**
 * After a write of a missed contact or a failed attempt: the next step of the ladder, exactly once
 * per missed Task (a `once` key in the job table, whatever the number of writes, instances or
 * retries). An attempt is a Task due by its step's time, with a job that fails it then; the last
 * step opens the same-day escalation of the missed contact when risk indicators are present.
 */
export async function takeNextOutreachStep(ctx: PolicyContext, task: Task): Promise<void> {
  const place = ladderPlace(task);
  if (place === undefined || !isMissed(task)) return;
  if (!(await once(ctx.store, `outreach:Task/${task.id}`, ctx.now))) return;
  const step = OUTREACH_LADDER[place + 1];
  if (!step) return;
  // a contact starts its own ladder; each attempt carries the contact it follows up as its focus
  const missedContact: Reference = place === -1 ? { reference: `Task/${task.id}` } : task.focus!;
  const failedAt = new Date(task.executionPeriod?.end ?? ctx.now.toISOString());
  if (step.kind === 'attempt') {
    const attempt = await ctx.create(attemptTask(step, place + 1, task, missedContact, failedAt, ctx.now));
    await scheduleJob(ctx.store, { kind: JobKind.outreachDeadline, key: deadlineJobKey(attempt.id), runAt: new Date(attempt.restriction!.period!.end!), payload: { task: attempt.id } });
    return;
  }
  const patientId = localId(task.for, 'Patient');
  const risks = patientId ? await riskIndicators(ctx.store, patientId) : [];
  if (risks.length === 0) return;
  await openSameDayEscalation(ctx, {
    patient: task.for!,
    focus: missedContact,
    reason: `a missed contact (${missedContact.reference}) was followed by a same-day call, a next-day home visit attempt and a partner contact, none of which reached the person`,
    currentRisks: risks.join('; '),
  });
}

/**
 * At an attempt's due time: if it is still open, it failed (status failed, outcome not done in
 * time, ended at its due time), which takes the next step. A Task still `requested` or `received`
 * first goes to `ready`, the state machine's way to `failed`.
 */
export async function runOutreachDeadline(ctx: PolicyContext, job: ClaimedJob): Promise<void> {
  const current = (await ctx.store.readOrUndefined('Task', String(job.payload.task))) as Task | undefined;
  if (!current || isFinalTaskStatus(current.status)) return;
  // If-Match on the version read: a worker closing the attempt at this moment wins, and the job,
  // refused (412), runs again later and finds it closed
  const version = (t: Task) => ({ ifMatch: Number(t.meta?.versionId) });
  let task = current;
  if (!TASK_TRANSITIONS[task.status].includes('failed')) task = (await ctx.update({ ...task, status: 'ready' }, version(task))).resource;
  const due = task.restriction?.period?.end ?? job.runAt.toISOString();
  await ctx.update(
    {
      ...task,
      status: 'failed',
      statusReason: { text: `Not done by its due time (${due})` },
      executionPeriod: { start: task.executionPeriod?.start ?? due, end: due },
      output: [...(task.output ?? []), outcomeOutput(ContactOutcome.notDoneInTime)],
    },
    version(task),
  );
}

function attemptTask(step: OutreachAttempt, index: number, previous: Task, missedContact: Reference, failedAt: Date, now: Date): Task {
  const due = new Date(Math.max(step.due(failedAt).getTime(), now.getTime()));
  return {
    resourceType: 'Task',
    status: 'ready',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [{ system: PATHWAY.taskCode, code: step.code, display: step.display }] },
    description: `${step.display} after a missed contact (outreach step ${index + 1} of ${OUTREACH_LADDER.length})`,
    focus: missedContact,
    partOf: [{ reference: `Task/${previous.id}` }],
    ...(previous.basedOn ? { basedOn: previous.basedOn } : {}),
    for: previous.for,
    ...(previous.owner ? { owner: previous.owner } : {}),
    authoredOn: now.toISOString(),
    restriction: { period: { start: now.toISOString(), end: due.toISOString() } },
  };
}

import type { Task } from '@medplum/fhirtypes';
import { PATHWAY, TaskCode } from '../codes.js';
import type { WritePolicy } from '../write-policies.js';
import { issue, unprocessable } from '../care/care-plan-rules.js';

import { acceptHandover, type HandoverOptions } from './acceptance.js';
import { checklistIssues, transitionPlanIssues } from './transition.js';

export function isHandover(task: Task): boolean {
  return task.code?.coding?.some((c) => c.system === PATHWAY.taskCode && c.code === TaskCode.handover) ?? false;
}

/** Statuses in which a handover is not (or no longer) asking anyone to take it on: its plan is not checked. */
const NOT_ASKING = new Set<Task['status']>(['draft', 'cancelled', 'rejected', 'failed', 'entered-in-error']);
/** Statuses in which the receiving team has accepted (completed implies it). */
const ACCEPTED = new Set<Task['status']>(['accepted', 'in-progress', 'completed']);

/**
 * Step-down and handover (domain.md): the parties and the transition plan whenever the handover
 * asks, the checklist before it completes, and acceptance moving the lead in the same transaction.
 */
export function handoverPolicies(opts: HandoverOptions = {}): WritePolicy[] {
  return [
    {
      name: 'a handover names its sender, receiving team, plan and person, carries the transition plan, and completes with its checklist',
      types: ['Task'],
      before: (next, previous) => {
        const task = next as Task;
        if (!isHandover(task) || NOT_ASKING.has(task.status)) return next;
        const issues = [...partyIssues(task), ...transitionPlanIssues(task)];
        if (task.status === 'completed' && (previous as Task | undefined)?.status !== 'completed') issues.push(...checklistIssues(task));
        if (issues.length) throw unprocessable(issues);
        return next;
      },
    },
    {
      name: 'acceptance of a handover moves the accountable lead, opens the first contact and tapers contact',
      types: ['Task'],
      after: async (written, ctx) => {
        const task = written as Task;
        if (isHandover(task) && ACCEPTED.has(task.status)) await acceptHandover(ctx, task, opts);
      },
    },
  ];
}

/** The policies with the default first-contact time (72 hours); `handoverPolicies(config)` for another. */
export const HANDOVER_POLICIES: readonly WritePolicy[] = handoverPolicies();

function partyIssues(task: Task) {
  const out = [];
  if (!task.requester?.reference) out.push(issue('Task.requester', 'A handover names the sending lead (Task.requester), accountable until the receiving team accepts'));
  if (!task.owner?.reference) out.push(issue('Task.owner', 'A handover names the receiving team (Task.owner)'));
  if (!task.focus?.reference?.startsWith('CarePlan/')) out.push(issue('Task.focus', 'A handover is about a care plan (Task.focus a CarePlan reference)'));
  if (!task.for?.reference) out.push(issue('Task.for', 'A handover names the person (Task.for)'));
  return out;
}

import type { CarePlan, CarePlanActivity, CareTeam, Task, Timing } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { parseSearch } from '../../fhir/search/parse.js';
import { PATHWAY, TaskCode } from '../codes.js';
import { localId } from '../referral-context.js';
import type { PolicyContext } from '../write-policies.js';
import { careTeamOf } from '../care/care-team.js';
import { CARE, CareActivity } from '../care/codes.js';
import { moveLead } from '../care/open-plan.js';
import { contactTiming } from './transition.js';

export interface HandoverOptions {
  /** Hours within which the receiving lead's first contact after crisis care is due (default 72: the national standard after inpatient discharge). */
  firstContactWithinHours?: number;
}

export const DEFAULT_FIRST_CONTACT_HOURS = 72;
const DAY_MS = 86_400_000;

/**
 * What acceptance does, in the transaction of the write that accepted (domain.md: "the named lead
 * keeps coordination until the receiving service confirms acceptance"): the receiving team becomes
 * the one accountable lead on the CareTeam, the first contact is due within the configured hours,
 * and tapering contacts join the plan as cadences. Once per handover: each step is a no-op when
 * already done. Any refusal rolls the acceptance back, so the lead stays where it was.
 */
export async function acceptHandover(ctx: PolicyContext, task: Task, opts: HandoverOptions): Promise<void> {
  // the first contact marks an acceptance done: a later re-save of the handover never moves the lead back
  if (await firstContactOf(ctx, task)) return;
  const plan = await handedOverPlan(ctx, task);
  const team = await careTeamOf(ctx.store, plan);
  if (!team) throw conflict('Task.focus', `CarePlan/${plan.id} has no stored care team whose lead could move`);
  await moveLead(ctx, team as CareTeam, task.owner!);
  await openFirstContact(ctx, task, plan, opts.firstContactWithinHours ?? DEFAULT_FIRST_CONTACT_HOURS);
  await addTaperingContacts(ctx, task, plan);
}

async function handedOverPlan(ctx: PolicyContext, task: Task): Promise<CarePlan> {
  const id = localId(task.focus, 'CarePlan');
  const plan = id ? ((await ctx.store.readOrUndefined('CarePlan', id)) as CarePlan | undefined) : undefined;
  if (!plan || plan.status !== 'active') throw conflict('Task.focus', `A handover is accepted for an active care plan; ${task.focus?.reference ?? 'its focus'} is ${plan ? `'${plan.status}'` : 'not stored'}`);
  return plan;
}

async function firstContactOf(ctx: PolicyContext, task: Task): Promise<Task | undefined> {
  const found = await ctx.store.matches(parseSearch('Task', [['part-of', `Task/${task.id}`], ['code', `${PATHWAY.taskCode}|${TaskCode.firstContact}`]]));
  return found[0] as Task | undefined;
}

/** The receiving lead's first contact, due within `hours` of acceptance; one per handover. */
async function openFirstContact(ctx: PolicyContext, task: Task, plan: CarePlan, hours: number): Promise<void> {
  const now = ctx.now;
  await ctx.create<Task>({
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [{ system: PATHWAY.taskCode, code: TaskCode.firstContact, display: 'First contact after crisis care' }] },
    reasonCode: { coding: [{ system: CARE.careActivity, code: CareActivity.firstContactAfterCrisis, display: 'First contact after crisis care' }] },
    description: `First contact by the receiving team after handover, due within ${hours} hours`,
    partOf: [{ reference: `Task/${task.id}` }],
    focus: { reference: `CarePlan/${plan.id}` },
    for: task.for,
    authoredOn: now.toISOString(),
    owner: task.owner,
    restriction: { period: { start: now.toISOString(), end: new Date(now.getTime() + hours * 3_600_000).toISOString() } },
  });
}

/**
 * Contact tapers over weeks (domain.md): the transition plan's frequency for the first 14 days
 * (three a week when it is given in words), then weekly for four weeks, until the review confirms
 * readiness. Added as cadence activities keyed by the handover, so acceptance adds them once.
 */
async function addTaperingContacts(ctx: PolicyContext, task: Task, plan: CarePlan): Promise<void> {
  const key = `taper-${task.id}`;
  const current = (await ctx.store.read('CarePlan', plan.id!)) as CarePlan;
  if (current.activity?.some((a) => a.id?.startsWith(key))) return;
  const start = ctx.now;
  const first = contactTiming(task)?.repeat ?? { frequency: 3, period: 1, periodUnit: 'wk' as const };
  const steps: CarePlanActivity[] = [
    taper(`${key}-1`, { frequency: first.frequency ?? 1, period: first.period!, periodUnit: first.periodUnit! }, start, 14, 'Contacts for the first 14 days after handover'),
    taper(`${key}-2`, { frequency: 1, period: 1, periodUnit: 'wk' }, new Date(start.getTime() + 14 * DAY_MS), 28, 'Weekly contact for four weeks, until the review confirms readiness'),
  ];
  await ctx.update({ ...current, activity: [...(current.activity ?? []), ...steps] }, { ifMatch: Number(current.meta?.versionId) });
}

function taper(id: string, repeat: NonNullable<Timing['repeat']>, from: Date, days: number, description: string): CarePlanActivity {
  return {
    id,
    detail: {
      kind: 'Appointment',
      code: { coding: [{ system: CARE.careActivity, code: CareActivity.taperingContact, display: 'Tapering contact' }] },
      status: 'scheduled',
      scheduledTiming: { repeat: { ...repeat, boundsPeriod: { start: from.toISOString(), end: new Date(from.getTime() + days * DAY_MS).toISOString() } } },
      description,
    },
  };
}

function conflict(expression: string, message: string): FhirError {
  return new FhirError(FhirErrorCode.CONFLICT, { code: 'business-rule', expression, message });
}

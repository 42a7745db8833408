import type { CarePlan, Reference, Task } from '@medplum/fhirtypes';
import type { ResourceStore } from '../../store/resource-store.js';
import { cadencesOf, type Cadence } from '../care/care-plan.js';
import { accountableLeadOf, careTeamOf } from '../care/care-team.js';
import { PATHWAY, TaskCode } from '../codes.js';
import type { PolicyContext } from '../write-policies.js';
import { addLondonCalendar, onWorkingDay } from '../working-days.js';
import { JobKind, SCHEDULER } from './codes.js';
import { scheduleJob, type ClaimedJob } from './jobs.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A cadence more often than this is a data-entry slip, not a contact plan: it is read as hourly. */
const SHORTEST_INTERVAL_MS = HOUR_MS;

/** What the job of one occurrence carries: occurrence `n` of an activity, starting at `start`. */
export interface CadencePayload {
  carePlan: string;
  activity: string;
  n: number;
  start: string;
}

/** The job key of occurrence `n` of an activity's cadence: one job, and so one Task, per occurrence. */
export function cadenceJobKey(carePlanId: string, activity: string, n: number): string {
  return `cadence:CarePlan/${carePlanId}:${activity}:${n}`;
}

/**
 * Starts the cadences of an active plan: the job of each activity's first occurrence, at the
 * plan's start (or now, for a plan that started before it was written), within the cadence's
 * bounds. Scheduling again on each write of the plan is a no-op, and an activity added later starts
 * its own; each job schedules the next occurrence (see `runCadenceContact`).
 */
export async function startCadences(store: ResourceStore, plan: CarePlan, now: Date): Promise<void> {
  for (const cadence of cadencesOf(plan)) {
    const start = latest(now, plan.period?.start, cadence.bounds?.start);
    const payload: CadencePayload = { carePlan: plan.id!, activity: cadence.key, n: 1, start: start.toISOString() };
    await scheduleJob(store, { kind: JobKind.cadenceContact, key: cadenceJobKey(plan.id!, cadence.key, 1), runAt: start, payload: { ...payload } });
  }
}

/**
 * The job of one occurrence: while the plan is active and the activity's cadence live, creates the
 * occurrence's contact Task, due when the next occurrence starts (on a working day), and schedules
 * the next occurrence. A plan on hold (or an activity on hold) skips the contact but keeps the
 * rhythm; a plan or activity that ended, or a cadence past its bounds, stops it.
 */
export async function runCadenceContact(ctx: PolicyContext, job: ClaimedJob): Promise<void> {
  const p = job.payload as unknown as CadencePayload;
  const plan = (await ctx.store.readOrUndefined('CarePlan', p.carePlan)) as CarePlan | undefined;
  const cadence = plan && liveCadence(plan, p.activity);
  if (!plan || !cadence) return;
  const start = new Date(p.start);
  if (cadence.bounds?.end && start >= new Date(cadence.bounds.end)) return;
  const next = nextOccurrence(start, cadence);
  if (plan.status === 'active' && cadence.status !== 'on-hold') {
    await ctx.create(contactTask(plan, cadence, { key: job.key, n: p.n, start, due: onWorkingDay(next) }, await ownerOf(ctx.store, plan), ctx.now));
  }
  const following: CadencePayload = { ...p, n: p.n + 1, start: next.toISOString() };
  await scheduleJob(ctx.store, { kind: JobKind.cadenceContact, key: cadenceJobKey(p.carePlan, p.activity, p.n + 1), runAt: next, payload: { ...following } });
}

/** The activity's cadence while it may still produce contacts: the plan active or on hold, the activity not ended. */
function liveCadence(plan: CarePlan, key: string): Cadence | undefined {
  if (plan.status !== 'active' && plan.status !== 'on-hold') return undefined;
  return cadencesOf({ ...plan, status: 'active' }).find((c) => c.key === key);
}

/**
 * When the occurrence after one starting at `start` starts: `period / frequency` of the period's
 * unit. Whole days, weeks, months and years are counted on the London calendar (09:00 stays 09:00
 * across the clock changes, the 31st becomes the month's last day); fractions in elapsed time.
 */
export function nextOccurrence(start: Date, c: Pick<Cadence, 'frequency' | 'period' | 'periodUnit'>): Date {
  const per = c.period / Math.max(c.frequency, 1);
  const elapsed = (ms: number) => new Date(start.getTime() + Math.max(ms, SHORTEST_INTERVAL_MS));
  const whole = (x: number) => Number.isInteger(x) && x > 0;
  switch (c.periodUnit) {
    case 'a':
      return whole(per * 12) ? addLondonCalendar(start, { months: per * 12 }) : elapsed(per * 365.25 * DAY_MS);
    case 'mo':
      return whole(per) ? addLondonCalendar(start, { months: per }) : elapsed(per * 30.4375 * DAY_MS);
    case 'wk':
      return whole(per * 7) ? addLondonCalendar(start, { days: per * 7 }) : elapsed(per * 7 * DAY_MS);
    case 'd':
      return whole(per) ? addLondonCalendar(start, { days: per }) : elapsed(per * DAY_MS);
    case 'h':
      return elapsed(per * HOUR_MS);
    case 'min':
      return elapsed(per * 60_000);
    case 's':
      return elapsed(per * 1000);
  }
}

/** Who the scheduler's Tasks of a plan go to: the accountable lead of its care team, else the team. */
export async function ownerOf(store: ResourceStore, plan: CarePlan): Promise<Reference | undefined> {
  const team = await careTeamOf(store, plan);
  return (team && accountableLeadOf(team)) ?? plan.careTeam?.[0];
}

function contactTask(plan: CarePlan, cadence: Cadence, at: { key: string; n: number; start: Date; due: Date }, owner: Reference | undefined, now: Date): Task {
  const kind = cadence.code.text ?? cadence.code.coding?.[0]?.display ?? cadence.code.coding?.[0]?.code ?? 'Contact';
  return {
    resourceType: 'Task',
    identifier: [{ system: SCHEDULER.jobKey, value: at.key }],
    status: 'ready',
    intent: 'order',
    priority: 'routine',
    code: { coding: [{ system: PATHWAY.taskCode, code: TaskCode.contact, display: 'Contact' }], text: kind },
    // the kind of contact the plan asks for (weekly wellbeing contact, monthly structured review)
    reasonCode: cadence.code,
    description: `${kind}: contact ${at.n} of the care plan's cadence${cadence.description ? ` (${cadence.description})` : ''}`,
    basedOn: [{ reference: `CarePlan/${plan.id}` }],
    for: plan.subject,
    authoredOn: now.toISOString(),
    ...(owner ? { owner: owner as Task['owner'] } : {}),
    restriction: { period: { start: at.start.toISOString(), end: at.due.toISOString() } },
  };
}

function latest(now: Date, ...candidates: (string | undefined)[]): Date {
  let t = now.getTime();
  for (const c of candidates) if (c && Date.parse(c) > t) t = Date.parse(c);
  return new Date(t);
}

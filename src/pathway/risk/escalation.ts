import type { Reference, Task } from '@medplum/fhirtypes';
import { parseSearch } from '../../fhir/search/parse.js';
import { FRONT_DOOR_TEAM } from '../front-door.js';
import { PATHWAY, TaskCode } from '../codes.js';
import { localId } from '../referral-context.js';
import type { PolicyContext } from '../write-policies.js';
import { accountableLeadOfPatient } from '../care/care-team.js';
import { CARE } from '../care/codes.js';
import { sameDayDue } from './same-day.js';
import { sharedLanguageInput, SharedLanguage } from '../step-up/shared-language.js';

export interface SameDayEscalationArgs {
  patient: Reference;
  /** What has changed, in words (the Task's description and its what-has-changed part). */
  reason: string;
  /** What the escalation is about (a Flag, a referral, a missed contact): at most one escalation per focus. */
  focus: Reference;
  /** The named clinician; else the accountable lead of the person's care plan; else `team`; else the front-door team. */
  clinician?: Reference;
  team?: Reference;
  /** The current risks, when the caller knows them (pre-filled as the current-risks part). */
  currentRisks?: string;
}

/**
 * Opens the same-day escalation of `focus` (domain.md, Step-up: "High-risk indicators need a
 * same-day welfare response, never next available"), or returns the one already opened: exactly
 * one per focus, whatever the number of writes or their concurrency. An advisory lock per focus
 * serializes openers in their transactions; the escalation-key identifier (value = the focus
 * reference) finds the one already there and marks the Task as the server's own.
 */
export async function openSameDayEscalation(ctx: PolicyContext, args: SameDayEscalationArgs): Promise<Task> {
  const key = args.focus.reference!;
  await ctx.store.lock(`escalation:${key}`);
  const existing = await findEscalation(ctx, key);
  if (existing) return existing;
  const lead = args.clinician ? undefined : await leadOf(ctx, args.patient);
  return ctx.create(sameDayEscalationTask(args, escalationOwner(args, lead), ctx.now));
}

/** Who an escalation goes to: the named clinician, else the person's accountable lead, else the team, else the front door. */
export function escalationOwner(args: SameDayEscalationArgs, lead: Reference | undefined): Reference {
  return args.clinician ?? lead ?? args.team ?? FRONT_DOOR_TEAM;
}

/** The escalation opened for a focus, if any (whatever its status: a re-save never opens another). */
export async function findEscalation(ctx: Pick<PolicyContext, 'store'>, focusReference: string): Promise<Task | undefined> {
  const found = await ctx.store.matches(parseSearch('Task', [['identifier', `${CARE.escalationKey}|${focusReference}`]]));
  return found[0] as Task | undefined;
}

async function leadOf(ctx: PolicyContext, patient: Reference): Promise<Reference | undefined> {
  const id = localId(patient, 'Patient');
  return id ? accountableLeadOfPatient(ctx.store, id) : undefined;
}

/**
 * The escalation as the server opens it: what it knows is pre-filled (what has changed, the
 * current risks), the other two parts are left for the clinician, who must give all four before
 * recording a decision (step-up policy). Messaging plans it into a new referral's statement.
 */
export function sameDayEscalationTask(args: SameDayEscalationArgs, owner: Reference, now: Date): Task {
  return {
    resourceType: 'Task',
    identifier: [{ system: CARE.escalationKey, value: args.focus.reference }],
    status: 'requested',
    intent: 'order',
    priority: 'asap',
    code: { coding: [{ system: PATHWAY.taskCode, code: TaskCode.escalation, display: 'Escalation' }] },
    description: `Same-day escalation: ${args.reason}`,
    focus: args.focus,
    for: args.patient,
    authoredOn: now.toISOString(),
    owner: owner as Task['owner'],
    restriction: { period: { start: now.toISOString(), end: sameDayDue(now).toISOString() } },
    input: [
      sharedLanguageInput(SharedLanguage.whatHasChanged, args.reason),
      ...(args.currentRisks ? [sharedLanguageInput(SharedLanguage.currentRisks, args.currentRisks)] : []),
    ],
  };
}

import { randomUUID } from 'node:crypto';
import type { CodeableConcept, Coding, Extension, Organization, Provenance, Reference, Resource, ServiceRequest, Task, TaskInput } from '@medplum/fhirtypes';
import type { Clock } from '../clock.js';
import { parseSearch } from '../fhir/search/parse.js';
import type { ResourceStore, WriteResult } from '../store/resource-store.js';
import { FRONT_DOOR_TEAM_ID, PATHWAY, TaskCode, TriageStatus } from './codes.js';
import { holderOf, teamExtension, teamOf, withTeam } from './tasks/team.js';
import { isFinalTaskStatus } from './tasks/transitions.js';
import { publishedMinimumDataset, screenMinimumDataset, type MdsGap, type MinimumDataset } from './mds-screen.js';
import { loadReferralContext, type ReferralContext } from './referral-context.js';
import { evaluateRules, publishedRuleSet, type RuleSet, type TriageDecision } from './triage-rules.js';
import { addWorkingDays, type WorkingDayOptions } from './working-days.js';

export interface FrontDoorOptions {
  clock: Clock;
  /** When the referral reached Stepwise (Task.authoredOn); the clock's now when absent. */
  receivedAt?: Date;
  ruleSet?: RuleSet;
  dataset?: MinimumDataset;
  /** Working days the clarification call to the referrer is due within (default 1). */
  clarificationWorkingDays?: number;
  workingDays?: WorkingDayOptions;
}

export interface FrontDoorResult {
  /** The one triage Task of the referral. */
  task: Task;
  /** false when the referral already had its triage Task (nothing was written). */
  created: boolean;
  /** Required MDS items missing or invalid, each named, for the answer to the sender. */
  gaps: MdsGap[];
  /** "Where known" items absent (reported, not holding). */
  notKnown: MdsGap[];
  decision?: TriageDecision;
  clarificationTask?: Task;
  provenance?: Provenance;
}

export const FRONT_DOOR_TEAM: Reference<Organization> = { reference: `Organization/${FRONT_DOOR_TEAM_ID}`, display: 'Front-door team' };

const coding = (system: string, code: string): { coding: Coding[] } => ({ coding: [{ system, code }] });
const WITHDRAWN = new Set<ServiceRequest['status']>(['revoked', 'entered-in-error']);

/** Whether a referral's status withdraws it (revoked, or entered in error): its open Tasks are then cancelled. */
export function isWithdrawn(status: ServiceRequest['status']): boolean {
  return WITHDRAWN.has(status);
}

/**
 * How the front door writes the Tasks it changes after admission (a re-screen, a withdrawal): a
 * write policy passes its context (`PolicyContext`), so that each new version of the triage Task
 * passes the pathway's policies like any other write (the triage outcome to a BaRS sender among
 * them). Straight to the store when absent (a caller outside any write: tests, tools).
 */
export interface FrontDoorWrites {
  create<T extends Resource>(resource: T): Promise<T & { id: string }>;
  update<T extends Resource>(resource: T, opts?: { ifMatch?: number }): Promise<WriteResult & { resource: T }>;
}

function directWrites(tx: ResourceStore): FrontDoorWrites {
  return {
    create: (r) => tx.create(r) as never,
    update: (r, opts) => tx.update(r, opts) as never,
  };
}

/** The writes of an admission, worked out before anything is written: every resource has its id. */
export interface AdmissionPlan {
  task: Task & { id: string };
  clarificationTask?: Task & { id: string };
  provenance: Provenance;
  gaps: MdsGap[];
  notKnown: MdsGap[];
  decision: TriageDecision;
  /** What to create, in this order: the triage Task, its clarification Task, the Provenance. */
  creates: { resource: Resource; id: string }[];
}

/**
 * The single front door's decision for a referral seen for the first time (domain.md, "The single
 * front door"): its one triage Task, the minimum dataset screen, the threshold rules and the
 * Provenance of the decision. Pure: the caller writes `creates` in one go, in the message's own
 * statement or in `admitReferral`'s transaction.
 */
export function planAdmission(ctx: ReferralContext, opts: FrontDoorOptions): AdmissionPlan {
  const screen = screenMinimumDataset(ctx, opts.dataset ?? publishedMinimumDataset());
  const receivedAt = opts.receivedAt ?? opts.clock.now();
  const decision = evaluateRules(ctx, opts.ruleSet ?? publishedRuleSet());
  const withId = (t: Task): Task & { id: string } => ({ ...t, id: randomUUID() as string });
  const task = withId(triageTask(ctx.referral, receivedAt, decision, screen.gaps));
  const clarification = screen.gaps.length ? withId(clarificationTask(task, screen.gaps, receivedAt, opts)) : undefined;
  // the Provenance targets the Task's first version, the one created with it
  const provenance = decisionProvenance({ ...task, meta: { versionId: '1' } }, decision, screen.gaps, opts.clock.now(), 'CREATE');
  const creates = [task, clarification].filter((t): t is Task & { id: string } => t !== undefined).map((t) => ({ resource: t as Resource, id: t.id }));
  creates.push({ resource: provenance, id: randomUUID() });
  return { task, clarificationTask: clarification, provenance, gaps: screen.gaps, notKnown: screen.notKnown, decision, creates };
}

/**
 * The single front door for a stored referral: gives it its one triage Task (see `planAdmission`),
 * in one transaction (joining the caller's when the store is transaction-bound). A second call
 * for the same referral writes nothing and returns the existing Task.
 */
export async function admitReferral(store: ResourceStore, referral: { serviceRequestId: string }, opts: FrontDoorOptions): Promise<FrontDoorResult> {
  return store.transaction(async (tx) => {
    await tx.lock(`front-door:ServiceRequest/${referral.serviceRequestId}`);
    const existing = await findTriageTask(tx, referral.serviceRequestId);
    const ctx = await loadReferralContext(tx, referral.serviceRequestId);
    if (existing) {
      const screen = screenMinimumDataset(ctx, opts.dataset ?? publishedMinimumDataset());
      return { task: existing, created: false, gaps: screen.gaps, notKnown: screen.notKnown };
    }
    const plan = planAdmission(ctx, opts);
    const stored = await tx.createMany(plan.creates);
    const byId = (id: string | undefined) => (id ? (stored.find((r) => r.id === id) as Task) : undefined);
    return {
      task: byId(plan.task.id)!,
      created: true,
      gaps: plan.gaps,
      notKnown: plan.notKnown,
      decision: plan.decision,
      clarificationTask: byId(plan.clarificationTask?.id),
      provenance: stored[stored.length - 1] as Provenance,
    };
  });
}

export interface RescreenResult {
  task: Task;
  /** false when the Task is no longer waiting (claimed, completed, cancelled): nothing was changed. */
  rescreened: boolean;
  gaps: MdsGap[];
  decision?: TriageDecision;
  provenance?: Provenance;
}

/**
 * Re-runs the minimum dataset and the rules when information arrives (an update message, or a
 * PATCH by the triage team) and resumes the triage Task: with no gaps left it is requested again
 * and the open clarification Tasks are completed. The due time still counts from receipt. A
 * decision already made is never rewritten: a new Provenance records the new one (none when the
 * Task does not change).
 */
export async function rescreenReferral(store: ResourceStore, serviceRequestId: string, opts: FrontDoorOptions, writes?: FrontDoorWrites): Promise<RescreenResult> {
  return store.transaction(async (tx) => {
    const w = writes ?? directWrites(tx);
    await tx.lock(`front-door:ServiceRequest/${serviceRequestId}`);
    const current = await findTriageTask(tx, serviceRequestId);
    if (!current) return { ...(await admitReferral(tx, { serviceRequestId }, opts)), rescreened: true };
    const ctx = await loadReferralContext(tx, serviceRequestId);
    const screen = screenMinimumDataset(ctx, opts.dataset ?? publishedMinimumDataset());
    if (current.status !== 'requested' && current.status !== 'on-hold') return { task: current, rescreened: false, gaps: screen.gaps };

    const receivedAt = new Date(current.authoredOn ?? opts.clock.now().toISOString());
    const decision = evaluateRules(ctx, opts.ruleSet ?? publishedRuleSet());
    const next = triageTask(ctx.referral, receivedAt, decision, screen.gaps);
    // a person who claimed the Task keeps it; the team it belongs to follows the decision
    const claim = holderOf(current) ? { owner: current.owner } : {};
    const rescreened = { ...current, ...pick(next, ['status', 'businessStatus', 'priority', 'owner', 'performerType', 'restriction', 'input', 'output', 'description']), ...claim, extension: withTeam(current.extension, teamOf(next)!) };
    const updated = await w.update(rescreened, { ifMatch: Number(current.meta?.versionId) });
    const task = updated.resource;

    const open = await openTasks(tx, task.id!);
    for (const clarify of open.filter((t) => hasCode(t, TaskCode.clarify))) {
      if (screen.gaps.length === 0) await w.update({ ...clarify, status: 'completed', statusReason: { text: 'The missing information arrived' } });
      else await w.update({ ...clarify, input: gapInputs(screen.gaps), description: clarifyDescription(screen.gaps) });
    }
    if (screen.gaps.length && !open.some((t) => hasCode(t, TaskCode.clarify))) await w.create(clarificationTask(task, screen.gaps, opts.clock.now(), opts));
    // a re-screen that changes nothing on the Task records no new decision
    const provenance = updated.changed ? await tx.create(decisionProvenance(task, decision, screen.gaps, opts.clock.now(), 'UPDATE')) : undefined;
    return { task, rescreened: true, gaps: screen.gaps, decision, provenance };
  });
}

/**
 * A referral withdrawn by its sender (revoked or entered in error): its triage Task, and the
 * calls and reviews that hang off it, are cancelled if still open; a completed triage stays as it
 * was. Returns the triage Task, if the referral had one.
 */
export async function withdrawReferral(store: ResourceStore, serviceRequestId: string, reason: string, writes?: FrontDoorWrites): Promise<Task | undefined> {
  return store.transaction(async (tx) => {
    const w = writes ?? directWrites(tx);
    await tx.lock(`front-door:ServiceRequest/${serviceRequestId}`);
    const task = await findTriageTask(tx, serviceRequestId);
    if (!task || isFinalTaskStatus(task.status)) return task;
    const statusReason = { text: reason };
    for (const child of await openTasks(tx, task.id!)) await w.update({ ...child, status: 'cancelled', statusReason });
    return (await w.update({ ...task, status: 'cancelled', statusReason })).resource;
  });
}

/** The triage Task of a referral (Task.code triage, focus the ServiceRequest), if any. */
export async function findTriageTask(store: ResourceStore, serviceRequestId: string): Promise<Task | undefined> {
  const found = await store.matches(parseSearch('Task', [['focus', `ServiceRequest/${serviceRequestId}`], ['code', `${PATHWAY.taskCode}|${TaskCode.triage}`]]));
  return found[0] as Task | undefined;
}

/**
 * The triage Task as the decision shapes it. Missing information holds it (on-hold, awaiting
 * information, with the front-door team) unless it is same-day (stat or asap): a red flag never
 * waits for a form to be completed. A borderline referral's triage Task is itself the senior
 * oversight (businessStatus senior-oversight, lead senior clinician): no second Task copies it.
 */
function triageTask(sr: ServiceRequest, receivedAt: Date, decision: TriageDecision, gaps: MdsGap[]): Task {
  const held = gaps.length > 0 && !isSameDay(decision.priority);
  const team = held ? FRONT_DOOR_TEAM : decision.owner;
  const businessStatus = held ? TriageStatus.awaitingInformation : decision.kind === 'senior-oversight' ? TriageStatus.seniorOversight : TriageStatus.awaitingTriage;
  const task: Task = {
    resourceType: 'Task',
    status: held ? 'on-hold' : 'requested',
    businessStatus: coding(PATHWAY.triageStatus, businessStatus),
    intent: 'order',
    priority: decision.priority,
    code: coding(PATHWAY.taskCode, TaskCode.triage),
    description: triageDescription(decision, gaps, held),
    focus: { reference: `ServiceRequest/${sr.id}` },
    authoredOn: receivedAt.toISOString(),
    owner: team,
    extension: [teamExtension(team)],
    performerType: [decision.lead],
    restriction: { period: { end: new Date(receivedAt.getTime() + decision.dueWithinMs).toISOString() } },
  };
  if (sr.subject) task.for = sr.subject;
  if (gaps.length) task.input = gapInputs(gaps);
  if (decision.kind === 'decided') task.output = [{ type: coding(PATHWAY.taskParameterType, 'triage-outcome'), valueCodeableConcept: { coding: [decision.pathway] } }];
  return task;
}

/** Stat and asap are same-day: such a referral is never held for missing information. */
function isSameDay(priority: Task['priority']): boolean {
  return priority === 'stat' || priority === 'asap';
}

/**
 * What the triage Task says it is for: a held Task, what it waits for and what happens once that
 * arrives; otherwise the decision's rationale (what, which code fired it, the standard).
 */
function triageDescription(decision: TriageDecision, gaps: MdsGap[], held: boolean): string {
  if (!held) return decision.rationale;
  const next = decision.kind === 'senior-oversight' ? 'senior oversight, a senior clinician triages it' : lowerFirst(decision.summary);
  return `On hold, waiting for the referrer to give: ${gaps.map((g) => lowerFirst(g.display)).join('; ')}. Once it arrives: ${next}.`;
}

function lowerFirst(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s[0].toLowerCase() + s.slice(1) : s;
}

/** What a held Task waits for: the missing-mds-item inputs its admission gave it (gapInputs), as written. */
export function missingMdsInputs(task: Task): CodeableConcept[] {
  return (task.input ?? [])
    .filter((i) => i.type?.coding?.some((c) => c.system === PATHWAY.taskParameterType && c.code === 'missing-mds-item'))
    .map((i) => i.valueCodeableConcept ?? {});
}

function gapInputs(gaps: MdsGap[]): TaskInput[] {
  return gaps.map((g) => ({ type: coding(PATHWAY.taskParameterType, 'missing-mds-item'), valueCodeableConcept: { coding: [{ system: PATHWAY.mdsItem, code: g.code, display: g.display }], text: g.message } }));
}

function clarifyDescription(gaps: MdsGap[]): string {
  return `Contact the referrer for: ${gaps.map((g) => g.message).join('; ')}`;
}

/** The call to the referrer: due within the configured working days, never after the triage due time. */
function clarificationTask(triage: Task, gaps: MdsGap[], from: Date, opts: FrontDoorOptions): Task {
  const byWorkingDays = addWorkingDays(from, opts.clarificationWorkingDays ?? 1, opts.workingDays);
  const triageDue = new Date(triage.restriction!.period!.end!);
  const due = byWorkingDays < triageDue ? byWorkingDays : triageDue;
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: triage.priority,
    code: coding(PATHWAY.taskCode, TaskCode.clarify),
    description: clarifyDescription(gaps),
    partOf: [{ reference: `Task/${triage.id}` }],
    focus: triage.focus,
    ...(triage.for ? { for: triage.for } : {}),
    authoredOn: from.toISOString(),
    owner: FRONT_DOOR_TEAM,
    extension: [teamExtension(FRONT_DOOR_TEAM)],
    restriction: { period: { end: due.toISOString() } },
    input: gapInputs(gaps),
  };
}

/**
 * The evidence of a decision (domain.md: who, when, which rule and version, rationale): targets
 * the exact version of the Task it shaped, so a later decision adds a Provenance and never
 * rewrites this one.
 */
function decisionProvenance(task: Task, decision: TriageDecision, gaps: MdsGap[], now: Date, operation: 'CREATE' | 'UPDATE'): Provenance {
  return {
    resourceType: 'Provenance',
    extension: [decisionExtension(decision, gaps, task.restriction?.period?.end)],
    target: [{ reference: `Task/${task.id}/_history/${task.meta?.versionId}` }],
    occurredDateTime: task.authoredOn,
    recorded: now.toISOString(),
    policy: [`${decision.ruleSetUrl}|${decision.ruleSetVersion}`],
    reason: [{ text: decision.rationale }],
    activity: coding('http://terminology.hl7.org/CodeSystem/v3-DataOperation', operation),
    agent: [{ type: coding('http://terminology.hl7.org/CodeSystem/provenance-participant-type', 'performer'), who: FRONT_DOOR_TEAM }],
    entity: [{ role: 'source', what: task.focus! }],
  };
}

/** The triage-decision extension: rule, rule set and version, outcome, owner, lead, due time, rationale, gaps. */
export function decisionExtension(decision: TriageDecision, gaps: MdsGap[], due?: string): Extension {
  const ext: Extension[] = [
    { url: 'rule', valueId: decision.ruleId },
    { url: 'ruleSet', valueCanonical: decision.ruleSetUrl },
    { url: 'ruleSetVersion', valueString: decision.ruleSetVersion },
    { url: 'kind', valueCode: decision.kind },
    { url: 'pathway', valueCoding: decision.pathway },
    { url: 'priority', valueCode: decision.priority },
    { url: 'owner', valueReference: decision.owner },
    { url: 'lead', valueCodeableConcept: decision.lead },
    ...(due ? [{ url: 'due', valueDateTime: due }] : []),
    { url: 'rationale', valueString: decision.rationale },
    ...gaps.map((g): Extension => ({ url: 'missingItem', valueCoding: { system: PATHWAY.mdsItem, code: g.code, display: g.display } })),
  ];
  return { url: PATHWAY.triageDecision, extension: ext };
}

async function openTasks(store: ResourceStore, triageTaskId: string): Promise<Task[]> {
  const page = await store.search(parseSearch('Task', [['part-of', `Task/${triageTaskId}`], ['_count', '100']]));
  return (page.matches as Task[]).filter((t) => !isFinalTaskStatus(t.status));
}

function hasCode(task: Task, code: string): boolean {
  return task.code?.coding?.some((c) => c.system === PATHWAY.taskCode && c.code === code) ?? false;
}

function pick(task: Task, keys: (keyof Task)[]): Partial<Task> {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = task[k];
  return out as Partial<Task>;
}


import type { Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import { parseSearch } from '../fhir/search/parse.js';
import type { WriteOrigin } from '../pipeline/write-record.js';
import type { ResourceStore, WriteResult } from '../store/resource-store.js';
import { PATHWAY, TaskCode } from './codes.js';
import { admitReferral, findTriageTask, isWithdrawn, rescreenReferral, withdrawReferral } from './front-door.js';
import { CARE_POLICIES } from './care/policies.js';
import type { HandoverOptions } from './handover/acceptance.js';
import { HANDOVER_POLICIES, handoverPolicies } from './handover/policies.js';
import { PROVENANCE_POLICY } from './provenance.js';
import { checkRedirect } from './redirect-check.js';
import { localId } from './referral-context.js';
import { RISK_POLICIES } from './risk/policies.js';
import { TIME_DRIVEN_POLICIES } from './scheduler/policies.js';
import { STEP_UP_POLICIES } from './step-up/policies.js';
import { checkTaskTransition, isFinalTaskStatus, isPathwayTask } from './tasks/transitions.js';
import { stampTriageCompletion } from './triage-completion.js';

/**
 * What a policy sees of a write: the store bound to the write's transaction, its instant, and
 * writes of its own that pass the same policies (a Task a policy opens is a Task like any other).
 */
export interface PolicyContext {
  store: ResourceStore;
  now: Date;
  /** Where the write came from (who asked, the operation): absent for a route that plans its writes itself (messaging). */
  origin?: WriteOrigin;
  /** Creates a resource (server id) through the policies, in this transaction. */
  create<T extends Resource>(resource: T): Promise<T & { id: string }>;
  /** Updates (or creates with its id) a resource through the policies, in this transaction. */
  update<T extends Resource>(resource: T, opts?: { ifMatch?: number }): Promise<WriteResult & { resource: T }>;
}

/** Policies that write start other policies; a chain deeper than this is a fault in the rules. */
const MAX_POLICY_DEPTH = 8;

/**
 * A domain rule every write of its resource types passes, whatever its route (REST, a Bundle
 * entry): checked or applied before the resource is stored, or acted on after, in the same
 * transaction. A rule refuses by throwing a FhirError.
 */
export interface WritePolicy {
  name: string;
  types: readonly string[];
  /**
   * Which resources of those types the rule is about (e.g. a Stepwise care plan, not a GP's care
   * plan a referral carries): cheap, and read before anything else, so a write it does not concern
   * stays a single statement. All of them when absent.
   */
  applies?(resource: Resource): boolean;
  /** The resource as it will be stored; `previous` is the stored current version, if any. */
  before?(next: Resource, previous: Resource | undefined, ctx: PolicyContext): Resource;
  after?(written: Resource, ctx: PolicyContext): Promise<void>;
  beforeDelete?(current: Resource, ctx: PolicyContext): Promise<void>;
}

/** Resources the minimum dataset and the rules read about a person. */
const ABOUT_THE_PATIENT = ['Patient', 'Flag', 'RiskAssessment', 'Consent', 'MedicationStatement', 'Condition', 'RelatedPerson'] as const;

/**
 * Every route in gets the same front door. Messaging works out a new referral's admission before
 * it writes (one statement), so it runs every policy but these two itself (messaging/processor.ts).
 */
export const FRONT_DOOR_POLICY: WritePolicy = {
  name: 'every referral goes through the single front door',
  types: ['ServiceRequest'],
  after: (written, ctx) => admitRescreenOrWithdraw(ctx, written as ServiceRequest),
};

export const RESCREEN_POLICY: WritePolicy = {
  name: 'new information about a person re-screens their waiting referrals',
  types: ABOUT_THE_PATIENT,
  after: (written, ctx) => rescreenWaitingReferrals(ctx, written),
};

/** The pathway's rules, in the order they run. */
export const PATHWAY_POLICIES: readonly WritePolicy[] = [
  {
    name: 'Task status moves by the state machine (pathway/tasks/transitions.ts)',
    types: ['Task'],
    before: (next, previous) => {
      if (isPathwayTask(next as Task) || (previous && isPathwayTask(previous as Task))) checkTaskTransition(previous as Task | undefined, next as Task);
      return next;
    },
  },
  {
    name: 'a redirect carries its rationale, signposting and escalation routes',
    types: ['Task'],
    before: (next) => (checkRedirect(next as Task), next),
  },
  {
    name: 'a completed triage records its time to triage',
    types: ['Task'],
    before: (next, previous, ctx) => stampTriageCompletion(previous as Task | undefined, next as Task, ctx.now),
  },
  {
    name: 'an open pathway Task is closed, never deleted: a referral is never silently dropped',
    types: ['Task'],
    beforeDelete: async (current) => {
      const task = current as Task;
      if (!isPathwayTask(task) || isFinalTaskStatus(task.status)) return;
      throw new FhirError(FhirErrorCode.CONFLICT, {
        code: 'business-rule',
        expression: 'Task.status',
        message: `Task/${task.id} is open ('${task.status}'): set its status to cancelled, with a statusReason, instead of deleting it`,
      });
    },
  },
  FRONT_DOOR_POLICY,
  {
    name: 'a referral waiting at the front door is withdrawn, never deleted',
    types: ['ServiceRequest'],
    beforeDelete: async (current, ctx) => {
      const triage = await findTriageTask(ctx.store, current.id!);
      if (!triage || isFinalTaskStatus(triage.status)) return;
      throw new FhirError(FhirErrorCode.CONFLICT, {
        code: 'business-rule',
        expression: 'ServiceRequest',
        message: `ServiceRequest/${current.id} has an open triage Task (Task/${triage.id}): revoke the referral (status revoked) instead of deleting it, and its Tasks are cancelled`,
      });
    },
  },
  RESCREEN_POLICY,
  ...CARE_POLICIES,
  ...RISK_POLICIES,
  ...STEP_UP_POLICIES,
  ...HANDOVER_POLICIES,
  ...TIME_DRIVEN_POLICIES,
  // last, so that it records each version as the other rules left it
  PROVENANCE_POLICY,
];

/**
 * The pathway's rules with the configured options: a handover's first contact due within
 * `firstContactWithinHours` (config FIRST_CONTACT_AFTER_CRISIS_HOURS) instead of the default 72.
 */
export function pathwayPolicies(opts: HandoverOptions = {}): readonly WritePolicy[] {
  const configured = handoverPolicies(opts);
  return PATHWAY_POLICIES.map((p) => (HANDOVER_POLICIES.includes(p) ? configured[HANDOVER_POLICIES.indexOf(p)] : p));
}

/**
 * Whether any policy concerns a write, so that every other write stays a single statement. A
 * Patient just created with a server id cannot yet have a referral waiting.
 */
export function policiesApply(resource: Resource, createdWithNewId: boolean, policies: readonly WritePolicy[] = PATHWAY_POLICIES): boolean {
  if (resource.resourceType === 'Patient' && createdWithNewId) return false;
  // an update may change what a resource is (its code, its profile): every policy of its type looks
  return policies.some((p) => (createdWithNewId ? concerns(p, resource) : p.types.includes(resource.resourceType)) && (p.before || p.after));
}

/**
 * A create, update or patch with the policies around it, in one transaction: each `before` in
 * order on the resource about to be stored, the write, then each `after` when it changed anything.
 */
export async function writeWithPolicies<R extends WriteResult>(
  store: ResourceStore,
  resource: Resource,
  createdWithNewId: boolean,
  write: (store: ResourceStore, r: Resource) => Promise<R>,
  policies: readonly WritePolicy[] = PATHWAY_POLICIES,
  origin?: WriteOrigin,
): Promise<R> {
  return writeAtDepth(store, resource, createdWithNewId, write, policies, 0, origin);
}

async function writeAtDepth<R extends WriteResult>(
  store: ResourceStore,
  resource: Resource,
  createdWithNewId: boolean,
  write: (store: ResourceStore, r: Resource) => Promise<R>,
  policies: readonly WritePolicy[],
  depth: number,
  origin?: WriteOrigin,
): Promise<R> {
  if (!policiesApply(resource, createdWithNewId, policies)) return write(store, resource);
  if (depth > MAX_POLICY_DEPTH) throw new Error(`write policies nested deeper than ${MAX_POLICY_DEPTH} writes (${resource.resourceType})`);
  return store.transaction(async (tx) => {
    const ctx = policyContext(tx, policies, depth + 1, origin);
    const mine = policies.filter((p) => concerns(p, resource));
    const previous = !createdWithNewId && resource.id && mine.some((p) => p.before) ? await tx.readOrUndefined(resource.resourceType, resource.id) : undefined;
    let next = resource;
    for (const p of mine) if (p.before) next = p.before(next, previous, ctx);
    const result = await write(tx, next);
    if (result.changed) for (const p of mine) if (p.after) await p.after(result.resource, ctx);
    return result;
  });
}

/**
 * For a route that plans its writes before making them (messaging): each `before` policy on a
 * resource about to be created, outside any transaction. Returns the resource as it will be stored.
 */
export function checkNewResource(store: ResourceStore, resource: Resource, policies: readonly WritePolicy[] = PATHWAY_POLICIES, skip: readonly WritePolicy[] = []): Resource {
  const ctx = policyContext(store, policies, 1);
  let next = resource;
  for (const p of policies) if (p.before && !skip.includes(p) && concerns(p, next)) next = p.before(next, undefined, ctx);
  return next;
}

/** Whether any `after` policy (but those skipped) acts on one of these resources. */
export function actsAfter(resources: readonly Resource[], policies: readonly WritePolicy[] = PATHWAY_POLICIES, skip: readonly WritePolicy[] = []): boolean {
  return policies.some((p) => p.after && !skip.includes(p) && resources.some((r) => concerns(p, r)));
}

/** Whether a policy is about this resource: its type, and its `applies` test. */
function concerns(p: WritePolicy, r: Resource): boolean {
  return p.types.includes(r.resourceType) && (!p.applies || p.applies(r));
}

/** For a route that wrote in one statement: each `after` policy on what it wrote, in the caller's transaction. */
export async function runAfterPolicies(tx: ResourceStore, written: Resource[], policies: readonly WritePolicy[] = PATHWAY_POLICIES, skip: readonly WritePolicy[] = []): Promise<void> {
  const ctx = policyContext(tx, policies, 1);
  for (const r of written) for (const p of policies) if (p.after && !skip.includes(p) && concerns(p, r)) await p.after(r, ctx);
}

/**
 * The context the server's own work writes through outside a client's write (a scheduler job, at
 * the job's instant): its writes pass every policy, in `tx`.
 */
export function serverWriteContext(tx: ResourceStore, policies: readonly WritePolicy[], now: Date, origin?: WriteOrigin): PolicyContext {
  return policyContext(tx, policies, 0, origin, now);
}

/** The context of policies running at `depth`: their own writes pass the policies one level deeper. */
function policyContext(request: ResourceStore, policies: readonly WritePolicy[], depth: number, origin?: WriteOrigin, now?: Date): PolicyContext {
  // the policies are the server's own rules, acting on a write already allowed: they read and
  // write the whole store (completing a triage Task takes the person off the front door's
  // caseload, and the follow-up it makes is for another team), as the scheduler does
  const tx = request.unrestricted;
  return {
    store: tx,
    now: now ?? tx.clock.now(),
    origin,
    // what the policies write in consequence is the same requestor's doing (its Provenance says so)
    create: async (r) => (await writeAtDepth(tx, r, true, async (s, x) => ({ resource: await s.create(x), created: true, changed: true }), policies, depth, origin)).resource as never,
    update: (r, opts = {}) => writeAtDepth(tx, r, false, (s, x) => s.update(x, opts), policies, depth, origin) as never,
  };
}

/**
 * A delete with the policies that guard it, in one transaction with the delete itself: `find`
 * reads what would be deleted (nothing, for a resource already gone).
 */
export async function deleteWithPolicies<R>(
  store: ResourceStore,
  type: string,
  find: (store: ResourceStore) => Promise<Resource | undefined>,
  remove: (store: ResourceStore) => Promise<R>,
  policies: readonly WritePolicy[] = PATHWAY_POLICIES,
  origin?: WriteOrigin,
): Promise<R> {
  const guards = policies.filter((p) => p.beforeDelete && p.types.includes(type));
  if (guards.length === 0) return remove(store);
  return store.transaction(async (tx) => {
    const current = await find(tx);
    if (current) for (const p of guards) await p.beforeDelete!(current, policyContext(tx, policies, 1, origin));
    return remove(tx);
  });
}

/**
 * Every route in gets the same front door: a referral created or made active is admitted with
 * its one triage Task; one still waiting is screened again when it changes; one revoked or
 * entered in error is withdrawn, and one closed (completed: an MHSDS referral closure) no longer
 * waits for triage: either way its open Tasks are cancelled with the reason (as a BaRS
 * cancellation is), and a triage already done stays as it was. The Task versions the front door
 * writes after admission pass the policies (`ctx`), like any other write.
 */
async function admitRescreenOrWithdraw(ctx: PolicyContext, referral: ServiceRequest): Promise<void> {
  const { store, now } = ctx;
  const clock = { now: () => now };
  const triage = await findTriageTask(store, referral.id!);
  const closed = closedBecause(referral.status);
  if (closed) {
    if (triage) await withdrawReferral(store, referral.id!, closed, ctx);
    return;
  }
  if (!triage) {
    if (referral.status === 'active') await admitReferral(store, { serviceRequestId: referral.id! }, { clock });
    return;
  }
  if (triage.status === 'requested' || triage.status === 'on-hold') await rescreenReferral(store, referral.id!, { clock }, ctx);
}

/** The statusReason of a triage Task whose referral no longer waits for it, if it does not. */
function closedBecause(status: ServiceRequest['status']): string | undefined {
  if (isWithdrawn(status)) return `The referral was ${status === 'revoked' ? 'revoked' : 'entered in error'}`;
  if (status === 'completed') return 'The referral was closed (completed) before it was triaged';
  return undefined;
}

/** When the triage team fills a gap about a person, their referrals waiting at the front door are screened again. */
async function rescreenWaitingReferrals(ctx: PolicyContext, written: Resource): Promise<void> {
  const { store, now } = ctx;
  const patientId = written.resourceType === 'Patient' ? written.id : patientOf(written);
  if (!patientId) return;
  const waiting = await store.search(
    parseSearch('Task', [['patient', `Patient/${patientId}`], ['code', `${PATHWAY.taskCode}|${TaskCode.triage}`], ['status', 'requested,on-hold'], ['_count', '50']]),
  );
  for (const task of waiting.matches as Task[]) {
    const sr = localId(task.focus, 'ServiceRequest');
    if (sr) await rescreenReferral(store, sr, { clock: { now: () => now } }, ctx);
  }
}

function patientOf(r: Resource): string | undefined {
  const x = r as { patient?: { reference?: string }; subject?: { reference?: string } };
  return localId(x.patient, 'Patient') ?? localId(x.subject, 'Patient');
}

import type { Annotation, Organization, Reference, Task, TaskOutput } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import type { ResourceStore, WriteResult } from '../../store/resource-store.js';
import { writeWithPolicies } from '../write-policies.js';
import type { TaskOperationInput, TaskOperationName } from './operation-parameters.js';
import { checkRequiredOutputs } from './required-outputs.js';
import { describeHolder, holderOf, teamOf, withTeam } from './team.js';
import { checkTaskTransition, isFinalTaskStatus } from './transitions.js';

export interface TaskOperationRequest {
  taskId: string;
  /** The version the client based its request on (If-Match): 412 when the Task has moved on. */
  ifMatch?: number;
  input: TaskOperationInput;
}

export interface TaskOperationResult {
  task: Task;
  /** false when the Task already was as asked (a repeated claim): no new version. */
  changed: boolean;
}

/** Stores the next version of the Task, through the write policies, in the operation's transaction. */
export type TaskWrite = (store: ResourceStore, next: Task, ifMatch: number) => Promise<WriteResult>;

const writeThroughPolicies: TaskWrite = (store, next, ifMatch) => writeWithPolicies(store, next, false, (s, r) => s.update(r, { ifMatch }));

/** What an operation makes of the current Task: its next version, or undefined when nothing changes. */
type Step = (task: Task, input: TaskOperationInput, ctx: { store: ResourceStore; now: Date }) => Promise<Task | undefined> | Task | undefined;

/**
 * The work-queue operations on a Task (Task/[id]/$claim, $release, $accept, $reject, $complete).
 * Each runs in one transaction holding the Task's row lock, so concurrent operations on one Task
 * take turns and each decides on the version the previous one wrote: of many simultaneous claims
 * exactly one wins and the others are told who holds the Task (409). The status change passes the
 * state machine (transitions.ts) and the write policies like any other write.
 */
export async function runTaskOperation(store: ResourceStore, name: TaskOperationName, req: TaskOperationRequest, write: TaskWrite = writeThroughPolicies): Promise<TaskOperationResult> {
  return store.transaction(async (tx) => {
    const current = (await tx.readForUpdate('Task', req.taskId)) as Task;
    const next = await STEPS[name](current, req.input, { store: tx, now: tx.clock.now() });
    if (!next) return { task: current, changed: false };
    const version = Number(current.meta?.versionId);
    if (req.ifMatch !== undefined && req.ifMatch !== version) {
      throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `Version conflict: If-Match W/"${req.ifMatch}" but Task/${current.id} is at version ${version}`);
    }
    const result = await write(tx, next, version);
    return { task: result.resource as Task, changed: result.changed };
  });
}

const STEPS: Record<TaskOperationName, Step> = {
  claim: async (task, input, { store }) => {
    const who = input.practitioner!;
    const holder = holderOf(task);
    if (holder && sameReference(holder, who.ref)) return undefined; // a repeated claim by the holder
    if (holder) throw heldBy(task, holder);
    await checkKnown(store, who);
    const to = task.status === 'requested' ? 'received' : task.status;
    checkMove(task, to);
    const team = teamOf(task) ?? (task.owner?.reference?.startsWith('Organization/') ? (task.owner as Reference<Organization>) : undefined);
    return { ...task, status: to, owner: who.ref as Task['owner'], ...(team ? { extension: withTeam(task.extension, team) } : {}) };
  },
  release: (task, input) => {
    const holder = holderOf(task);
    if (!holder) return undefined; // already with its team
    checkHolder(task, holder, input);
    const team = teamOf(task);
    if (!team) {
      throw new FhirError(FhirErrorCode.CONFLICT, { message: `Task/${task.id} names no team to go back to (extension task-team)`, expression: 'Task.extension', code: 'business-rule' });
    }
    checkMove(task, 'requested');
    return { ...task, status: 'requested', owner: team };
  },
  accept: (task, input) => {
    const holder = holderOf(task);
    if (!holder) throw new FhirError(FhirErrorCode.CONFLICT, { message: `Task/${task.id} is held by nobody: claim it ($claim) before accepting it`, expression: 'Task.owner', code: 'business-rule' });
    checkHolder(task, holder, input);
    if (task.status === 'accepted') return undefined;
    checkMove(task, 'accepted');
    return { ...task, status: 'accepted' };
  },
  reject: (task, input) => {
    const holder = holderOf(task);
    if (holder) checkHolder(task, holder, input);
    checkMove(task, 'rejected');
    return { ...task, status: 'rejected', statusReason: input.reason };
  },
  complete: (task, input, { now }) => {
    const holder = holderOf(task);
    if (holder) checkHolder(task, holder, input);
    checkMove(task, 'completed');
    const next: Task = { ...task, status: 'completed' };
    if (input.outputs.length) next.output = [...(task.output ?? []).filter((o) => !input.outputs.some((given) => sameOutputType(o, given))), ...input.outputs];
    if (input.note) next.note = [...(task.note ?? []), noteBy(input.note, input.practitioner?.ref, now)];
    checkRequiredOutputs(next);
    return next;
  },
};

/**
 * Whether two outputs are of one type (a coding in common). An output the completer gives replaces
 * those of its type already there: the rules' proposed triage outcome is superseded by the
 * clinician's decision, never kept beside it for a policy to read first.
 */
function sameOutputType(a: TaskOutput, b: TaskOutput): boolean {
  return (a.type.coding ?? []).some((x) => (b.type.coding ?? []).some((y) => x.system === y.system && x.code === y.code));
}

/** 409 when the Task cannot move to `to`: final already, or a move the state machine forbids. */
function checkMove(task: Task, to: Task['status']): void {
  if (task.status === to && isFinalTaskStatus(to)) {
    throw new FhirError(FhirErrorCode.CONFLICT, { message: `Task/${task.id} is already ${to}`, expression: 'Task.status', code: 'business-rule' });
  }
  checkTaskTransition(task, { ...task, status: to });
}

/** When the request names who is acting, it must be the holder. */
function checkHolder(task: Task, holder: Reference, input: TaskOperationInput): void {
  if (input.practitioner && !sameReference(holder, input.practitioner.ref)) throw heldBy(task, holder);
}

function heldBy(task: Task, holder: Reference): FhirError {
  return new FhirError(FhirErrorCode.CONFLICT, {
    message: `Task/${task.id} is held by ${describeHolder(holder)}; they can release it ($release)`,
    expression: 'Task.owner',
    code: 'conflict',
  });
}

async function checkKnown(store: ResourceStore, who: NonNullable<TaskOperationInput['practitioner']>): Promise<void> {
  const [type, id] = who.ref.reference!.split('/');
  if (id && (await store.readOrUndefined(type, id))) return;
  throw new FhirError(FhirErrorCode.UNPROCESSABLE, { message: `${who.ref.reference} is not known to this server`, expression: who.expression, code: 'not-found' });
}

/** A note, by the practitioner when one is named (an Annotation's author may not be a PractitionerRole). */
function noteBy(text: string, who: Reference | undefined, now: Date): Annotation {
  const author = who?.reference?.startsWith('Practitioner/') ? { authorReference: who as Annotation['authorReference'] } : {};
  return { text, time: now.toISOString(), ...author };
}

function sameReference(a: Reference, b: Reference): boolean {
  return a.reference === b.reference;
}

import type { Patient, Resource, Task } from '@medplum/fhirtypes';
import { parseSearch } from '../fhir/search/parse.js';
import { PATHWAY } from '../pathway/codes.js';
import { missingMdsInputs } from '../pathway/front-door.js';
import { holderOf } from '../pathway/tasks/team.js';
import { isFinalTaskStatus } from '../pathway/tasks/transitions.js';
import type { ResourceStore } from '../store/resource-store.js';
import { nameOf } from './context.js';

/** The open statuses of a queue (src/pathway/README.md, "The queues"). */
export const OPEN_STATUSES = 'requested,received,accepted,ready,in-progress,on-hold';

export const QUEUE_VIEWS = {
  open: 'All open work',
  overdue: 'Overdue',
  'on-hold': 'On hold',
  mine: 'Held by me',
} as const;
export type QueueView = keyof typeof QUEUE_VIEWS;

export const isQueueView = (v: string | undefined): v is QueueView => v !== undefined && Object.hasOwn(QUEUE_VIEWS, v);

/** Rows a queue page shows. */
export const QUEUE_PAGE_SIZE = 25;

export interface QueueRow {
  task: Task;
  what: string;
  person?: { name: string; nhsNumber?: string };
  due?: Date;
  overdue: boolean;
  onHold: boolean;
  /** On hold: the minimum-dataset items the referrer has still to give. */
  missing: string[];
  /** Who holds it (a person), or nobody: it waits in the team's queue. */
  holder?: { reference: string; name: string };
}

export interface QueuePage {
  rows: QueueRow[];
  next?: string;
}

/**
 * The search the FHIR API's queue is (team or owner, one status list, `_sort=priority-rank,due`),
 * so it is walked from the task_queue index (store/task-queue.ts) and costs the same at any size;
 * the person and the holder come in the same query as includes.
 */
export interface QueueOptions {
  team?: string;
  practitioner?: string;
  now: Date;
  cursor?: string;
  /** Include the people (needs Patient.r) and the holders (Practitioner.r), as the API's `_include` would need. */
  include?: { patients: boolean; holders: boolean };
}

export function queueSearch(view: QueueView, opts: QueueOptions): [string, string][] {
  const params: [string, string][] = [];
  if (view === 'mine') params.push(['owner', opts.practitioner ?? 'Practitioner/none']);
  else params.push(['team', `Organization/${opts.team}`]);
  params.push(['status', view === 'on-hold' ? 'on-hold' : OPEN_STATUSES]);
  if (view === 'overdue') params.push(['due', `lt${opts.now.toISOString()}`]);
  params.push(['_sort', 'priority-rank,due'], ['_count', String(QUEUE_PAGE_SIZE)]);
  const include = opts.include ?? { patients: true, holders: true };
  if (include.patients) params.push(['_include', 'Task:patient']);
  if (include.holders) params.push(['_include', 'Task:owner:Practitioner']);
  if (opts.cursor) params.push(['_cursor', opts.cursor]);
  return params;
}

export async function loadQueue(store: ResourceStore, view: QueueView, opts: QueueOptions): Promise<QueuePage> {
  const page = await store.search(parseSearch('Task', queueSearch(view, opts)));
  const included = new Map<string, Resource>(page.included.map((r) => [`${r.resourceType}/${r.id}`, r]));
  return { rows: (page.matches as Task[]).map((task) => rowOf(task, included, opts.now)), next: page.next };
}

const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';

/** What a queue page shows, as the live updates compare it: each row's Task and version. */
export function queueState(rows: QueueRow[]): string[] {
  return rows.map((r) => `${r.task.id}/${r.task.meta?.versionId ?? ''}`);
}

export function rowOf(task: Task, included: Map<string, Resource>, now: Date): QueueRow {
  const patient = task.for?.reference ? (included.get(task.for.reference) as Patient | undefined) : undefined;
  const dueText = task.restriction?.period?.end;
  const due = dueText ? new Date(dueText) : undefined;
  const holder = holderOf(task);
  return {
    task,
    what: whatOf(task),
    person: patient ? { name: nameOf(patient as never) ?? 'Name not given', nhsNumber: patient.identifier?.find((i) => i.system === NHS_NUMBER)?.value } : undefined,
    due,
    overdue: !!due && due < now && !isFinalTaskStatus(task.status),
    onHold: task.status === 'on-hold',
    missing: missingItems(task),
    holder: holder ? { reference: holder.reference!, name: holder.display ?? nameOf(included.get(holder.reference!)) ?? holder.reference! } : undefined,
  };
}

/** "Triage", "Call to the referrer": the Task's code as a person says it. */
export function whatOf(task: Task): string {
  const coding = task.code?.coding?.find((c) => c.system === PATHWAY.taskCode) ?? task.code?.coding?.[0];
  return coding?.display ?? TASK_NAMES[coding?.code ?? ''] ?? task.code?.text ?? 'Task';
}

const TASK_NAMES: Record<string, string> = {
  triage: 'Triage',
  'clarify-referral': 'Call to the referrer',
  'senior-oversight': 'Senior oversight',
  'transfer-of-responsibility': 'Handover',
  contact: 'Contact',
  'care-plan-review': 'Care plan review',
  'outreach-call': 'Outreach call',
  'outreach-home-visit': 'Outreach home visit',
  'outreach-partner-contact': 'Outreach partner contact',
  escalation: 'Escalation',
  'first-contact': 'First contact after crisis care',
};

/** The minimum-dataset items a held Task waits for (its missing-mds-item inputs). */
export function missingItems(task: Task): string[] {
  return missingMdsInputs(task).map((c) => c.coding?.[0]?.display ?? c.text ?? c.coding?.[0]?.code ?? 'an item');
}

/** England's response standards by priority (src/pathway/decision-text.ts), as the queue labels them. */
export const PRIORITY_LABELS: Record<string, { text: string; colour: string }> = {
  stat: { text: 'Emergency', colour: 'red' },
  asap: { text: 'Same day', colour: 'red' },
  urgent: { text: 'Urgent', colour: 'orange' },
  routine: { text: 'Routine', colour: 'blue' },
};

const LONDON = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/** "Mon 2 Mar, 13:00", in London time: when work is due, as the team reads it. */
export function londonTime(d: Date): string {
  return LONDON.format(d);
}

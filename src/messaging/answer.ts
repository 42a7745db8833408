import { randomUUID } from 'node:crypto';
import type { Bundle, MessageHeader, OperationOutcome, OperationOutcomeIssue, Resource, Task } from '@medplum/fhirtypes';
import { FhirErrorCode, toIssue, type IssueInit } from '../errors.js';
import { PATHWAY } from '../pathway/codes.js';
import type { MdsGap } from '../pathway/mds-screen.js';
import { isBarsEvent } from './bars-rules.js';
import type { Message } from './message.js';
import { nearMissSystems, type ContentPlan, type StoredEntry } from './persist.js';

/** MessageHeader.response.code (http://hl7.org/fhir/R4/valueset-response-code.html). */
export type ResponseCode = 'ok' | 'transient-error' | 'fatal-error';

/**
 * The response message. `content` (what the message became here: the referral, its triage
 * Tasks and every stored resource, with the ids Stepwise gave them) rides in the Bundle and the
 * header's focus, so a sender reads ids from structure, not from text. A BaRS request answered
 * synchronously keeps the request's Bundle.id: that is how BaRS senders (and NHS England's
 * receiver assurance pack) correlate the answer with their request.
 */
export function responseMessage(message: Message, opts: { correlateBundleId: boolean; code: ResponseCode; outcome: OperationOutcome; baseUrl: string; now: Date; focus?: string; content?: Resource[] }): Bundle {
  const { correlateBundleId, code, outcome, baseUrl, focus, content = [] } = opts;
  const focusRefs = focusReferences(focus, content);
  const outcomeId = randomUUID();
  const bars = isBarsEvent(message.event.system);
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: randomUUID(),
    eventCoding: message.event,
    ...(message.source ? { destination: [{ endpoint: message.source }] } : {}),
    source: { name: 'Stepwise', endpoint: baseUrl },
    response: {
      // BaRS answers with the request's Bundle.id (REFRESP01); FHIR with the request's MessageHeader.id.
      identifier: (bars ? message.id : (message.header.id ?? message.id)) ?? 'unknown',
      code,
      details: { reference: `urn:uuid:${outcomeId}` },
    },
    ...(focusRefs.length ? { focus: focusRefs } : {}),
  };
  return {
    resourceType: 'Bundle',
    id: (correlateBundleId && message.id) || randomUUID(),
    type: 'message',
    timestamp: opts.now.toISOString(),
    entry: [
      { fullUrl: `urn:uuid:${header.id}`, resource: header },
      { fullUrl: `urn:uuid:${outcomeId}`, resource: { ...outcome, id: outcomeId } },
      ...content.map((r) => ({ fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`, resource: r })),
    ],
  };
}

/** What a processed message became: its entries, the resources as stored, the front door's Tasks, and the answer's issues. */
export interface Outcome {
  stored: StoredEntry[];
  /** `Type/id` → the resource as stored (new, updated or matched). */
  resources: Map<string, Resource>;
  tasks: Task[];
  issues: OperationOutcomeIssue[];
}

/** The resources a plan stores or matched, by `Type/id`, with the ids they get. */
export function resourcesOf(plan: ContentPlan): Map<string, Resource> {
  const out = new Map<string, Resource>(plan.matched);
  for (const c of plan.creates) out.set(`${c.resource.resourceType}/${c.id}`, { ...c.resource, id: c.id });
  for (const u of plan.updates) out.set(`${u.resource.resourceType}/${u.resource.id}`, u.resource);
  return out;
}

/** The response's content: the focus first, then the triage Tasks, then the rest in message order. */
export function contentOf(outcome: Outcome, focus: string | undefined): Resource[] {
  const ordered = [...outcome.stored].map((s) => `${s.type}/${s.id}`);
  const keys = [...new Set([...(focus ? [focus] : []), ...outcome.tasks.map((t) => `Task/${t.id}`), ...ordered])];
  const all = new Map(outcome.resources);
  for (const t of outcome.tasks) all.set(`Task/${t.id}`, t);
  // A match is answered with what the sender sent, under the id it matched, never as stored: the
  // stored record holds what others recorded (another team's address, names, notes), which the
  // sender may not read (issue 13, compartments; found by npm run fuzz).
  for (const s of outcome.stored) if (s.action === 'matched') all.set(`${s.type}/${s.id}`, { ...s.entry.resource, id: s.id });
  return keys.map((k) => all.get(k)).filter((r): r is Resource => r !== undefined);
}

/** MessageHeader.focus: the referral and the Tasks the front door made for it. */
function focusReferences(focus: string | undefined, content: Resource[]): { reference: string }[] {
  const refs = focus ? [focus] : [];
  for (const r of content) if (r.resourceType === 'Task') refs.push(`Task/${r.id}`);
  return [...new Set(refs)].map((reference) => ({ reference }));
}

/** Content defects the message was accepted with, as warnings of the answer. */
export function warningIssues(warnings: IssueInit[]): OperationOutcomeIssue[] {
  return warnings.map((w) => toIssue(FhirErrorCode.INVALID, { ...w, severity: 'warning', code: w.code ?? 'value' }));
}

/** The triage Task the referral got, and each minimum dataset gap the sender can fill. */
export function triageIssues(task: Task, gaps: MdsGap[]): OperationOutcomeIssue[] {
  const due = task.restriction?.period?.end;
  const text = `Triage Task/${task.id}: ${task.status}, priority ${task.priority}${due ? `, due ${due}` : ''}`;
  return [
    { severity: 'information', code: 'informational', diagnostics: text, details: { text } },
    ...gaps.map((g): OperationOutcomeIssue => {
      const message = `Minimum dataset: ${g.message}; ${task.status === 'on-hold' ? 'the referral is on hold until it is sent' : 'please send it'}`;
      return { severity: 'warning', code: 'incomplete', expression: [g.location], diagnostics: message, details: { coding: [{ system: PATHWAY.mdsItem, code: g.code, display: g.display }], text: message } };
    }),
  ];
}

/** What each entry became: its id here, and whether it was created, updated or matched. */
export function storedOutcome(stored: StoredEntry[], triage: OperationOutcomeIssue[] = []): OperationOutcome {
  const issue: OperationOutcomeIssue[] = stored.map((s) => {
    const text = `${s.entry.fullUrl ?? `entry ${s.entry.index}`} ${s.action === 'matched' ? `matched ${s.type}/${s.id} on ${s.matchedOn}` : `${s.action} as ${s.type}/${s.id}`}`;
    return { severity: 'information', code: 'informational', expression: [s.entry.path], diagnostics: text, details: { text } };
  });
  issue.push(...triage);
  return { resourceType: 'OperationOutcome', issue: issue.length ? issue : [{ severity: 'information', code: 'informational', diagnostics: 'Message processed' }] };
}

/** Warnings for identifier systems that miss a national system by case or scheme: not matched on. */
export function nearMissWarnings(message: Message): OperationOutcomeIssue[] {
  return nearMissSystems(message.entries).map((n) => {
    const text = `Identifier system ${n.system} is not ${n.meant} (URIs are compared exactly), so this identifier was not used to match an existing resource`;
    return { severity: 'warning', code: 'value', expression: [n.expression], diagnostics: text, details: { text } };
  });
}

export function accepted(message: Message): OperationOutcome {
  const text = `Message ${message.id ?? ''} accepted; the response message will be sent to ${message.source || 'the sender'}`;
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: text, details: { text } }] };
}


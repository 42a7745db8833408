import type { Bundle, MessageHeader, Reference, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { MD } from '../config/bars-services.js';
import { enqueue, type OutboxMessage } from '../delivery/outbox.js';
import { stepwiseUuid } from '../fhir/name-based-uuid.js';
import { ReferencedResources } from '../fhir/referenced-resources.js';
import { parseSearch } from '../fhir/search/parse.js';
import { PATHWAY, TriageStatus } from '../pathway/codes.js';
import { findTriageTask, missingMdsInputs } from '../pathway/front-door.js';
import { isRedirect, isTriageTask, triageLevelCoding } from '../pathway/redirect-check.js';
import { localId } from '../pathway/referral-context.js';
import { teamOf } from '../pathway/tasks/team.js';
import type { WritePolicy } from '../pathway/write-policies.js';
import type { Queryable } from '../store/database.js';
import type { ResourceStore } from '../store/resource-store.js';
import { BARS } from './bars.js';

/**
 * The triage outcome goes back to the GP who referred by BaRS, as a `servicerequest-response`
 * (BaRS MessageDefinition bars-message-servicerequest-response-referral) to the sender's
 * `$process-message`, through the outbox (src/delivery): accepted, with the pathway and the due
 * time; redirected, with the signposting; or information requested, naming the missing
 * minimum-dataset items. It is queued in the transaction (or statement) that made the decision.
 */
export type TriageOutcomeKind = 'accepted' | 'redirected' | 'information-requested';

export const TRIAGE_OUTCOME_TOPIC = 'bars-triage-outcome';

/** What the response needs of where the referral came from (its BaRS message, in message_log). */
export interface ReferralOrigin {
  /** MessageHeader.source.endpoint of the referral: where the answer goes (`system|value`). */
  address: string;
  /** The referral message's Bundle.id: MessageHeader.response.identifier of the answer. */
  bundleId?: string;
  correlationId?: string;
}

export interface TriageOutcomeOptions {
  /** Our BaRS service (DoS id) that took the referral: the answer's source. */
  dosId: string;
  /** The FHIR base of fullUrls when the write has none (the scheduler, the CLI). */
  baseUrl: string;
}

/** What a triage Task's current version says to the referrer, if anything. */
export function triageOutcomeOf(task: Task): TriageOutcomeKind | undefined {
  if (!isTriageTask(task)) return undefined;
  if (task.status === 'completed') return isRedirect(task) ? 'redirected' : 'accepted';
  const waiting = task.businessStatus?.coding?.some((c) => c.system === PATHWAY.triageStatus && c.code === TriageStatus.awaitingInformation);
  if (task.status === 'on-hold' && waiting) return 'information-requested';
  return undefined;
}

/** The BaRS message that brought a referral, if it came by BaRS. */
export async function referralOrigin(q: Queryable, referralId: string): Promise<ReferralOrigin | undefined> {
  const [row] = await q.query<{ source: string; bundle_id: string | null; correlation_id: string | null }>(
    `SELECT source, bundle_id, correlation_id FROM message_log WHERE focus = $1 AND disposition = 'processed' AND bars AND source <> '' ORDER BY seq LIMIT 1`,
    [`ServiceRequest/${referralId}`],
    { prepare: true },
  );
  return row && { address: row.source, bundleId: row.bundle_id ?? undefined, correlationId: row.correlation_id ?? undefined };
}

/**
 * The resources a response carries besides the referral and its Task: the patient and their
 * consent to the referral, the referrer (PractitionerRole, Practitioner, their Organization), the
 * performer (the service and the organisation providing it) and the team, read through `read`
 * and `consents` (the store, or a message's own resources before they are written). The
 * MessageDefinition asks for two Organizations (sender and receiver) and the Consent.
 */
export async function relatedResources(
  sr: ServiceRequest,
  task: Task,
  read: (type: string, id: string) => Promise<Resource | undefined>,
  consents: (patient: string) => Promise<Resource[]>,
): Promise<Resource[]> {
  const carried = new ReferencedResources(read);
  const visit = async (ref: Reference | undefined) => {
    const r = await carried.visit(ref);
    if (r?.resourceType === 'PractitionerRole') {
      await visit(r.practitioner);
      await visit(r.organization);
    }
    if (r?.resourceType === 'HealthcareService') await visit(r.providedBy);
  };
  await visit(sr.subject);
  const patient = localId(sr.subject, 'Patient');
  if (patient) for (const c of await consents(patient)) carried.add(c);
  await visit(sr.requester);
  for (const p of sr.performer ?? []) await visit(p);
  await visit(task.owner);
  await visit(teamOf(task));
  return carried.resources;
}

/** The missing minimum-dataset items a held triage Task names (its missing-mds-item inputs). */
export function missingItems(task: Task): { code: string; display: string; text?: string }[] {
  return missingMdsInputs(task).map((concept) => {
    const c = concept.coding?.find((x) => x.system === PATHWAY.mdsItem);
    return { code: c?.code ?? 'unknown', display: c?.display ?? c?.code ?? 'an item', text: concept.text };
  });
}

/** The sentence the referrer reads (ServiceRequest.note of the response). */
export function outcomeText(kind: TriageOutcomeKind, task: Task): string {
  if (kind === 'information-requested') {
    const items = missingItems(task);
    return `Information requested: the referral is on hold until you send ${items.map((i) => i.display).join('; ')}.${items.some((i) => i.text) ? ` ${items.map((i) => i.text).filter(Boolean).join('; ')}.` : ''}`;
  }
  const outputs = task.output ?? [];
  if (kind === 'redirected') {
    const part = (code: string) => outputs.find((o) => o.type?.coding?.some((c) => c.system === PATHWAY.redirectOutput && c.code === code));
    const to = part('signposted-to');
    const where = to?.valueReference?.display ?? to?.valueReference?.reference ?? to?.valueString ?? 'another service';
    const why = part('rationale');
    return `Redirected: not taken on here; signposted to ${where}. Rationale: ${why?.valueString ?? why?.valueMarkdown ?? '(none given)'}. Urgent escalation routes were given to the person.`;
  }
  const pathway = triageLevelCoding(task);
  const due = task.restriction?.period?.end;
  return `Accepted: ${pathway?.display ?? pathway?.code ?? 'taken on'}${task.priority ? `, priority ${task.priority}` : ''}${due ? `, due by ${due}` : ''}.`;
}

const RESPONSE_STATUS: Record<TriageOutcomeKind, ServiceRequest['status']> = { accepted: 'active', redirected: 'revoked', 'information-requested': 'on-hold' };

/**
 * The `servicerequest-response` message and its outbox row. The referral is answered as stored
 * with the outcome's status (active, revoked, on-hold) and the outcome in a note; the triage Task
 * rides with it (pathway, priority, due time, the missing items as inputs); the patient, the
 * referrer and the team make up the rest of what the MessageDefinition asks for.
 */
export function triageOutcomeMessage(args: { kind: TriageOutcomeKind; referral: ServiceRequest; task: Task; related: Resource[]; origin: ReferralOrigin; opts: TriageOutcomeOptions; baseUrl?: string; now: Date }): OutboxMessage {
  const { kind, referral, task, related, origin, opts, now } = args;
  const base = args.baseUrl ?? opts.baseUrl;
  const text = outcomeText(kind, task);
  const sr: ServiceRequest = { ...referral, status: RESPONSE_STATUS[kind], note: [...(referral.note ?? []), { time: now.toISOString(), text }] };
  const team = teamOf(task)?.reference ?? task.owner?.reference;
  const requesterOrg = related.find((r) => r.resourceType === 'PractitionerRole' && `PractitionerRole/${r.id}` === referral.requester?.reference);
  const receiver = (requesterOrg as { organization?: Reference } | undefined)?.organization?.reference ?? (referral.requester?.reference?.startsWith('Organization/') ? referral.requester.reference : undefined);
  const key = stepwiseUuid(`triage-outcome|Task/${task.id}|${kind}|${missingItems(task).map((i) => i.code).sort().join(',')}`);
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: stepwiseUuid(`header|${key}`),
    meta: { profile: ['https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-servicerequest-response'] },
    eventCoding: { system: BARS.events, code: 'servicerequest-response' },
    destination: [{ endpoint: origin.address, ...(receiver ? { receiver: { reference: receiver } } : {}) }],
    ...(team ? { sender: { reference: team } } : {}),
    source: { name: 'Stepwise', software: 'Stepwise', endpoint: `${BARS.dosServiceId}|${opts.dosId}` },
    reason: { coding: [{ system: BARS.reasons, code: 'new' }] },
    response: { identifier: origin.bundleId ?? referral.id!, code: 'ok' },
    focus: [{ reference: `ServiceRequest/${referral.id}` }],
    definition: MD.responseReferral,
  };
  const entries: Resource[] = [sr, task, ...related.filter((r) => !(r.resourceType === 'ServiceRequest' && r.id === referral.id))];
  const bundle: Bundle = {
    resourceType: 'Bundle',
    id: key,
    meta: { versionId: '1.0.0', profile: ['https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage'] },
    type: 'message',
    timestamp: now.toISOString(),
    // under the base like the rest, so the header's relative focus resolves inside the Bundle (bundle.html#references)
    entry: [{ fullUrl: `${base}/MessageHeader/${header.id}`, resource: header }, ...entries.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r }))],
  };
  const useCase = referral.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === BARS.useCases)?.code;
  return {
    topic: TRIAGE_OUTCOME_TOPIC,
    partner: origin.address,
    idempotencyKey: key,
    orderingKey: `ServiceRequest/${referral.id}`,
    contentType: 'application/fhir+json',
    payload: JSON.stringify(bundle),
    headers: {
      ...(origin.correlationId ? { 'X-Correlation-ID': origin.correlationId } : {}),
      ...(useCase ? { 'use-context': `${useCase}|referral|servicerequest-response|new` } : {}),
    },
  };
}

/** The policy's name: messaging, which queues a new referral's request for information in its own statement, skips it there. */
export const TRIAGE_OUTCOME_POLICY = 'a triage decision on a BaRS referral goes back to its sender (servicerequest-response, in the outbox)';

/**
 * The write policy: a triage Task completed (accepted or redirected) or put on hold awaiting
 * information, for a referral that came by BaRS, queues its response in the write's transaction
 * (a re-screen's new version of the Task passes the policies too); so does a referral written
 * over REST, whose admission the front door writes in one go, past the policies. The
 * X-Request-ID is named by the decision and the items asked for, so the same decision written
 * twice queues one message, and a second request names only what is still missing.
 */
export function triageOutcomePolicy(opts: TriageOutcomeOptions): WritePolicy {
  return {
    name: TRIAGE_OUTCOME_POLICY,
    types: ['Task', 'ServiceRequest'],
    applies: (r) => r.resourceType === 'ServiceRequest' || triageOutcomeOf(r as Task) !== undefined,
    after: async (written, ctx) => {
      const task = written.resourceType === 'Task' ? (written as Task) : await findTriageTask(ctx.store, written.id!);
      const kind = task && triageOutcomeOf(task);
      const referralId = task && localId(task.focus, 'ServiceRequest');
      if (!task || !kind || !referralId) return;
      // a referral's own write speaks only of a hold for information: its decision comes with the Task's
      if (written.resourceType === 'ServiceRequest' && kind !== 'information-requested') return;
      const q = ctx.store.queryable;
      const origin = await referralOrigin(q, referralId);
      if (!origin) return;
      const message = await messageFromStore(ctx.store, kind, task, referralId, origin, opts, ctx.now, ctx.origin?.baseUrl);
      if (message) await enqueue(q, [message], ctx.now);
    },
  };
}

async function messageFromStore(store: ResourceStore, kind: TriageOutcomeKind, task: Task, referralId: string, origin: ReferralOrigin, opts: TriageOutcomeOptions, now: Date, baseUrl?: string): Promise<OutboxMessage | undefined> {
  const referral = (await store.readOrUndefined('ServiceRequest', referralId)) as ServiceRequest | undefined;
  if (!referral) return undefined;
  const related = await relatedResources(
    referral,
    task,
    (type, id) => store.readOrUndefined(type, id),
    async (patient) => (await store.search(parseSearch('Consent', [['patient', `Patient/${patient}`], ['_count', '20']]))).matches,
  );
  return triageOutcomeMessage({ kind, referral, task, related, origin, opts, baseUrl, now });
}

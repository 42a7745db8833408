import { randomUUID } from 'node:crypto';
import type { AuditEvent, Bundle, Coding, Identifier, OperationOutcome, OperationOutcomeIssue, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { auditEvent, type AuditRequest } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import { FhirError, FhirErrorCode, relocate, toOperationOutcome, type IssueInit } from '../errors.js';
import { stepwiseCodeSystemUrl } from '../fhir/canonical.js';
import type { Validator } from '../fhir/validation/index.js';
import { extractIndexRows } from '../fhir/search/extract.js';
import { accountableLeadOfPatient } from '../pathway/care/care-team.js';
import { findTriageTask, planAdmission, type AdmissionPlan } from '../pathway/front-door.js';
import { PROVENANCE_POLICY } from '../pathway/provenance.js';
import { escalationOwner, sameDayEscalationTask } from '../pathway/risk/escalation.js';
import { RED_FLAG_POLICY, redFlagEscalation } from '../pathway/risk/policies.js';
import { publishedMinimumDataset, screenMinimumDataset } from '../pathway/mds-screen.js';
import { actsAfter, checkNewResource, FRONT_DOOR_POLICY, PATHWAY_POLICIES, RESCREEN_POLICY, runAfterPolicies, writeWithPolicies, type WritePolicy } from '../pathway/write-policies.js';
import { loadReferralContext, localId, referralContext, type ReferralSource } from '../pathway/referral-context.js';
import type { Database, Queryable } from '../store/database.js';
import { ResourceStore } from '../store/resource-store.js';
import { WriteBatch } from '../store/write-batch.js';
import { addAuditInserts } from '../store/audit-log.js';
import { addOutboxInserts, type OutboxMessage } from '../delivery/outbox.js';
import { barsError, withBarsCodes } from './bars.js';
import { accepted, contentOf, nearMissWarnings, resourcesOf, responseMessage, storedOutcome, triageIssues, warningIssues, type Outcome, type ResponseCode } from './answer.js';
import { judgeIssues } from './content-policy.js';
import { refuse } from './refusals.js';
import { checkBarsMessage, isBarsEvent, type BarsCheck } from './bars-rules.js';
import type { MessageCatalogue } from './catalogue.js';
import { parseBarsHeaders, PROCESS_MESSAGE_REQUIRED, type BarsHeaders, type RawMessageHeaders } from './headers.js';
import { HEADER_PATH, readMessage, type Message, type MessageEntry } from './message.js';
import { addPlanToBatch, IdentityRace, isIdentityRace, releaseClaims, planMessageContent, writePlan, type ContentPlan, type StoredEntry } from './persist.js';
import { relatedResources, TRIAGE_OUTCOME_POLICY, triageOutcomeMessage, triageOutcomeOf } from './triage-outcome.js';

/**
 * The front door's policies, which messaging works out before it writes (a new referral's
 * admission, and a red flag's escalation, are planned into the message's one statement); every
 * other policy runs as for REST.
 */
// a message is its own provenance (its log, its AuditEvent, the front door's decision Provenance):
// the per-write Provenance would cost every referral message a transaction of its own
const PLANNED_POLICIES = [FRONT_DOOR_POLICY, RESCREEN_POLICY, RED_FLAG_POLICY, PROVENANCE_POLICY];

/**
 * Stepwise's own message events (profiles/: CodeSystem message-event), processed as plain FHIR
 * messaging (http://hl7.org/fhir/R4/messaging.html): what they carry is stored as it comes.
 */
export const STEPWISE_EVENTS = stepwiseCodeSystemUrl('message-event');
export const DEFAULT_EVENTS: Coding[] = [
  { system: STEPWISE_EVENTS, code: 'referral-request', display: 'Referral request' },
  { system: STEPWISE_EVENTS, code: 'referral-response', display: 'Referral response' },
  { system: STEPWISE_EVENTS, code: 'handover-request', display: 'Handover request' },
  { system: STEPWISE_EVENTS, code: 'handover-response', display: 'Handover response' },
];

export interface MessagingDeps {
  db: Database;
  clock: Clock;
  catalogue: MessageCatalogue;
  /** Built on first use: loading R4 takes a second or two. */
  validator: () => Validator;
  /** Events outside BaRS that are accepted; their content is stored as it comes. */
  events?: Coding[];
  /** The pathway's policies as configured (the defaults when absent). */
  policies?: readonly WritePolicy[];
}

export interface ProcessInput {
  body: unknown;
  headers: RawMessageHeaders;
  /** `async=true`: accept with 202 and queue the response message in the outbox. */
  async: boolean;
  /** The FHIR base URL, the source endpoint of response messages. */
  baseUrl: string;
  /**
   * Who sent it, as authenticated (security/principal.ts requestorOf): the audit's requesting
   * agent. The BaRS headers only say who the sender claims to be; absent (the server's own code,
   * tests), the message is recorded as from no authenticated principal.
   */
  requestor?: AuditRequest['requestor'];
}

export type Disposition = 'processed' | 'rejected' | 'duplicate';

export interface ProcessResult {
  status: number;
  body: Bundle | OperationOutcome;
  headers: Record<string, string>;
  disposition: Disposition;
}


/** Thrown inside the transaction when the log already holds a processed copy: rolls back everything. */
class DuplicateMessage extends Error {}

interface LogRow {
  message?: Message;
  bars: boolean;
  headers: BarsHeaders;
  disposition: Disposition;
  outcome: ResponseCode;
  status: number;
  focus?: string;
  response: Resource;
  /** The answer as sent, where the log keeps less of it (`response`): what the outbox delivers. */
  sent?: Resource;
  /** What went wrong, for the AuditEvent of a rejection. */
  failure?: string;
  /** The status the failure stands for when the answer is 202 (an `async` rejection). */
  failureStatus?: number;
}

/** An update or cancellation, of the referral `focus`. */
type ChangeCheck = BarsCheck & { focus: NonNullable<BarsCheck['focus']> };

/** The log row's keys, known before the message's outcome. */
type LogKeys = Omit<LogRow, 'disposition' | 'outcome' | 'status' | 'response'>;

/**
 * $process-message (http://hl7.org/fhir/R4/messageheader-operation-process-message.html) and the
 * BaRS receiver: checks a message, stores what it carries all or nothing (one statement for new
 * content, one transaction for a change), answers with a response message, and logs and audits
 * exactly one outcome for every message: processed, rejected (nothing else is left behind) or
 * duplicate.
 */
export class MessageProcessor {
  private readonly events: Coding[];
  private readonly policies: readonly WritePolicy[];
  /** The policies messaging works out itself for a new message (PLANNED_POLICIES, and the triage outcome's request for information). */
  private readonly planned: readonly WritePolicy[];
  /** The store outside any transaction: reads, and building the statements that record a message. */
  private readonly store: ResourceStore;

  constructor(private readonly deps: MessagingDeps) {
    this.events = deps.events ?? DEFAULT_EVENTS;
    this.policies = deps.policies ?? PATHWAY_POLICIES;
    this.planned = [...PLANNED_POLICIES, ...this.policies.filter((p) => p.name === TRIAGE_OUTCOME_POLICY)];
    this.store = new ResourceStore(deps.db, deps.clock);
  }

  get catalogue(): MessageCatalogue {
    return this.deps.catalogue;
  }

  async process(input: ProcessInput): Promise<ProcessResult> {
    const echo = echoHeaders(input.headers);
    const { message, issues } = readMessage(input.body);
    const bars = message ? isBarsEvent(message.event.system) : false;
    // The BaRS headers are a BaRS rule; plain FHIR messaging only logs the ids it is given.
    const headerCheck = bars
      ? parseBarsHeaders(input.headers, PROCESS_MESSAGE_REQUIRED)
      : { headers: { requestId: input.headers.requestId, correlationId: input.headers.correlationId }, issues: [] };
    const row = { message, bars, headers: headerCheck.headers };
    if (!message || issues.length) return this.reject(row, invalid(bars, issues), input, echo, false);
    if (headerCheck.issues.length) return this.reject(row, invalid(bars, headerCheck.issues), input, echo, false);

    let check: BarsCheck | undefined;
    let warnings: IssueInit[];
    try {
      if (bars) {
        check = checkBarsMessage(message, headerCheck.headers, this.deps.catalogue, this.deps.validator());
        warnings = check.warnings;
      } else {
        warnings = this.checkGeneric(message);
      }
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      // a request sent again is answered as the duplicate it is, before what is wrong with it
      if (bars && (await this.processedBefore(headerCheck.headers.requestId))) return this.duplicate(row, message, input, echo);
      return this.reject(row, err, input, echo, input.async);
    }

    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return !check || check.kind === 'new' || !check.focus
            ? await this.processNew(message, check, row, input, echo, warnings)
            : await this.processChange(message, check as ChangeCheck, row, input, echo, warnings);
        } catch (err) {
          // another message created the same person a moment ago: plan again, and match them
          if (!isIdentityRace(err) || attempt >= MAX_ATTEMPTS) throw err;
          if (err instanceof IdentityRace) await releaseClaims(this.deps.db, err.stale);
        }
      }
    } catch (err) {
      if (err instanceof DuplicateMessage) return this.duplicate(row, message, input, echo);
      if (err instanceof FhirError) return this.reject(row, bars ? withBarsCodes(err) : err, input, echo, input.async);
      await this.logAlone({ ...row, disposition: 'rejected', outcome: 'transient-error', status: 500, response: toOperationOutcome(new FhirError(FhirErrorCode.INTERNAL, 'internal error')), failure: String(err) }, input).catch(() => undefined);
      throw err;
    }
  }

  /**
   * A new referral (or any message that only brings new content): everything is worked out by
   * reading first (identities, the front door's decision), then written in one statement gated on
   * the message's log row, so a duplicate writes nothing and the whole message costs two or three
   * round trips.
   */
  private async processNew(message: Message, check: BarsCheck | undefined, row: LogKeys, input: ProcessInput, echo: Record<string, string>, warnings: IssueInit[]): Promise<ProcessResult> {
    const plan = await planMessageContent(this.deps.db, message, { followReferences: false });
    // the pathway's rules on what the message creates, before anything is written
    plan.creates = plan.creates.map((c) => ({ ...c, resource: this.checkNew(plan, c) }));
    const admission = await this.admit(plan, check);
    const escalation = admission && (await this.redFlagEscalation(plan, admission));
    const outcome: Outcome = {
      stored: plan.entries,
      resources: resourcesOf(plan),
      tasks: admission ? [admission.task, admission.clarificationTask, escalation?.resource].filter((t): t is Task & { id: string } => t !== undefined) : [],
      issues: [...warningIssues(warnings), ...(admission ? triageIssues(admission.task, admission.gaps) : [])],
    };
    const outbound = admission && (await this.informationRequest(message, check, row, input, plan, admission));
    const content = { plan, creates: [...(admission?.creates ?? []), ...(escalation ? [escalation] : [])], outbound };
    if (!actsAfter(plan.creates.map((c) => c.resource), this.policies, this.planned)) return this.finish(this.deps.db, message, check, row, input, echo, outcome, content);
    // a policy acts on what was written (a high-risk Flag opens its escalation): one transaction
    return this.deps.db.transaction(async (tx) => {
      const result = await this.finish(tx, message, check, row, input, echo, outcome, content);
      await runAfterPolicies(new ResourceStore(this.deps.db, this.deps.clock, tx, true), plan.creates.map((c) => c.resource), this.policies, this.planned);
      return result;
    });
  }

  /**
   * A red-flag referral's same-day escalation, planned with its admission (risk/policies.ts,
   * RED_FLAG_POLICY, is the same rule for REST): to the person's accountable lead when they have
   * one, else to the team the rule gave the referral.
   */
  private async redFlagEscalation(plan: ContentPlan, admission: AdmissionPlan): Promise<{ resource: Task & { id: string }; id: string } | undefined> {
    const referralId = localId(admission.task.focus, 'ServiceRequest');
    const referral = plan.creates.find((c) => c.resource.resourceType === 'ServiceRequest' && c.id === referralId)?.resource as ServiceRequest | undefined;
    const args = referral && redFlagEscalation({ ...referral, id: referralId }, admission.task);
    if (!args) return undefined;
    const patientId = localId(args.patient, 'Patient');
    const lead = patientId && plan.matched.has(`Patient/${patientId}`) ? await accountableLeadOfPatient(this.store, patientId) : undefined;
    const id = randomUUID();
    return { resource: { ...sameDayEscalationTask(args, escalationOwner(args, lead), this.deps.clock.now()), id }, id };
  }

  /**
   * A BaRS referral the front door holds for missing information: the GP is asked for it by a
   * `servicerequest-response` (triage-outcome.ts), queued in the outbox in the message's own
   * statement. A decision made later (completed, redirected) is queued by the policy of that write.
   */
  private async informationRequest(message: Message, check: BarsCheck | undefined, row: LogKeys, input: ProcessInput, plan: ContentPlan, admission: AdmissionPlan): Promise<OutboxMessage[] | undefined> {
    const kind = triageOutcomeOf(admission.task);
    if (!row.bars || !check || kind !== 'information-requested' || !message.source) return undefined;
    const referralId = localId(admission.task.focus, 'ServiceRequest');
    const pending = resourcesOf(plan);
    const referral = referralId ? (pending.get(`ServiceRequest/${referralId}`) as ServiceRequest | undefined) : undefined;
    if (!referral) return undefined;
    const related = await relatedResources(
      referral,
      admission.task,
      async (type, id) => pending.get(`${type}/${id}`) ?? this.store.readOrUndefined(type, id),
      async (patient) => [...pending.values()].filter((r) => r.resourceType === 'Consent' && r.patient?.reference === `Patient/${patient}`),
    );
    const origin = { address: message.source, bundleId: message.id, correlationId: row.headers.correlationId };
    return [triageOutcomeMessage({ kind, referral, task: admission.task, related, origin, opts: { dosId: check.service.dosId, baseUrl: input.baseUrl }, now: this.deps.clock.now() })];
  }

  /** The policies' checks on a resource the message creates; a refusal names the entry it is about. */
  private checkNew(plan: ContentPlan, c: ContentPlan['creates'][number]): Resource {
    try {
      return checkNewResource(this.store, { ...c.resource, id: c.id }, this.policies, PLANNED_POLICIES);
    } catch (err) {
      const path = plan.entries.find((s) => s.id === c.id && s.type === c.resource.resourceType)?.entry.path;
      if (!(err instanceof FhirError) || !path) throw err;
      const type = c.resource.resourceType;
      throw relocate(err, (e) => (e === type || e.startsWith(`${type}.`) ? `${path}${e.slice(type.length)}` : e || path));
    }
  }

  /** An update or cancellation of a referral received before: one transaction, the referral's row locked. */
  private async processChange(message: Message, check: ChangeCheck, row: LogKeys, input: ProcessInput, echo: Record<string, string>, warnings: IssueInit[]): Promise<ProcessResult> {
    return this.deps.db.transaction(async (tx) => {
      const store = new ResourceStore(this.deps.db, this.deps.clock, tx, true);
      const change = await this.storeChange(store, tx, message, check);
      const triage = await this.frontDoor(store, change.stored, check);
      const outcome: Outcome = { stored: change.stored, resources: change.resources, tasks: triage.tasks, issues: [...warningIssues(warnings), ...triage.issues] };
      return this.finish(tx, message, check, row, input, echo, outcome, {});
    });
  }

  /**
   * Answers a message whose content is stored (or planned, with `content.plan`): the response
   * message, and the statement that logs it, audits it and writes what `content` brings. A
   * processed copy already holding the log row's keys makes it a duplicate.
   */
  private async finish(
    q: Queryable,
    message: Message,
    check: BarsCheck | undefined,
    row: LogKeys,
    input: ProcessInput,
    echo: Record<string, string>,
    outcome: Outcome,
    content: { plan?: ContentPlan; creates?: { resource: Resource; id: string }[]; outbound?: OutboxMessage[] },
  ): Promise<ProcessResult> {
    const focus = focusOf(outcome.stored, message, check);
    const focusRef = focus && `${focus.type}/${focus.id}`;
    const answer = storedOutcome(outcome.stored, [...outcome.issues, ...nearMissWarnings(message)]);
    const response = responseMessage(message, { correlateBundleId: row.bars && !input.async, code: 'ok', outcome: answer, baseUrl: input.baseUrl, now: this.deps.clock.now(), focus: focusRef, content: contentOf(outcome, focusRef) });
    const status = input.async ? 202 : 200;
    // A BaRS answer is never replayed (a message sent again is refused), so its log row keeps the
    // header and outcome only: the content entries are the stored resources the outcome names.
    const kept = row.bars ? { ...response, entry: response.entry!.slice(0, 2) } : response;
    const logRow: LogRow = { ...row, disposition: 'processed', outcome: 'ok', status, focus: focusRef, response: kept, sent: response };
    const logged = await this.recordBatch(logRow, input, input.async, { ...content, patient: patientOf(outcome.stored) }).run(q, 'SELECT seq FROM log');
    if (logged.length === 0) throw new DuplicateMessage();
    return { status, body: input.async ? accepted(message) : response, headers: echo, disposition: 'processed' };
  }

  /**
   * The front door's decision for a new referral, before anything is written: its context is the
   * message's own resources as they will be stored, and what is already stored about a person
   * who was matched (one query).
   */
  private async admit(plan: ContentPlan, check: BarsCheck | undefined): Promise<AdmissionPlan | undefined> {
    const referralEntry = plan.entries.find((s) => s.type === 'ServiceRequest' && s.entry.index === check?.focus?.index) ?? plan.entries.find((s) => s.type === 'ServiceRequest');
    if (!referralEntry) return undefined;
    const pending = new Map<string, Resource>(plan.matched);
    for (const c of plan.creates) pending.set(`${c.resource.resourceType}/${c.id}`, { ...c.resource, id: c.id });
    const referral = pending.get(`ServiceRequest/${referralEntry.id}`) as ServiceRequest;
    const source: ReferralSource = {
      read: async (type, id) => pending.get(`${type}/${id}`) ?? this.store.readOrUndefined(type, id),
      aboutPatient: async (patientId, sources) => {
        const fromMessage = [...pending.values()].filter((r) => refersTo(r, `Patient/${patientId}`, sources));
        // a person created by this message has nothing stored about them yet
        const stored = plan.matched.has(`Patient/${patientId}`) ? await this.store.readReferring(`Patient/${patientId}`, sources) : [];
        const seen = new Set(fromMessage.map((r) => `${r.resourceType}/${r.id}`));
        return [...fromMessage, ...stored.filter((r) => !seen.has(`${r.resourceType}/${r.id}`))];
      },
    };
    return planAdmission(await referralContext(referral, source), { clock: this.deps.clock });
  }

  /**
   * FHIR messaging outside BaRS: a configured event, and a Bundle that can be read as R4. What
   * its content says is judged as for BaRS (content-policy.ts): defects are warnings.
   */
  private checkGeneric(message: Message): IssueInit[] {
    const known = this.events.some((e) => e.system === message.event.system && e.code === message.event.code);
    if (!known) {
      throw new FhirError(FhirErrorCode.UNPROCESSABLE, {
        code: 'not-supported',
        expression: 'Bundle.entry[0].resource.eventCoding',
        message: `Event ${message.event.system ?? ''}|${message.event.code} is not processed here; accepted: ${[...this.events.map((e) => `${e.system}|${e.code}`), 'the BaRS events'].join(', ')}`,
      });
    }
    const verdict = judgeIssues(this.deps.validator().validate(message.bundle));
    if (verdict.refusals.length) throw new FhirError(FhirErrorCode.INVALID, verdict.refusals);
    return verdict.warnings;
  }

  private async storeChange(store: ResourceStore, tx: Queryable, message: Message, check: ChangeCheck): Promise<{ stored: StoredEntry[]; resources: Map<string, Resource> }> {
    const sr = check.focus;
    const target = await this.targetOf(store, tx, message, sr);
    const ifMatch = sr.resource.meta?.versionId && /^\d+$/.test(sr.resource.meta.versionId) ? Number(sr.resource.meta.versionId) : undefined;
    if (check.kind === 'update') {
      const plan = await planMessageContent(tx, message, { followReferences: true, updates: new Map([[sr.index, { id: target.id!, ifMatch }]]) });
      await writePlan(store, tx, plan, message.source, this.policies);
      return { stored: plan.entries, resources: resourcesOf(plan) };
    }
    // A cancellation changes the referral's status (and reason, which BaRS sends only on cancel).
    const cancelled: ServiceRequest = { ...target, status: sr.resource.status, ...(sr.resource.reasonCode ? { reasonCode: sr.resource.reasonCode } : {}) };
    let written: Resource;
    try {
      written = (await writeWithPolicies(store, cancelled, false, (s, r) => s.update(r, { ifMatch }), this.policies)).resource;
    } catch (err) {
      if (err instanceof FhirError && err.code === FhirErrorCode.PRECONDITION_FAILED) {
        throw refuse('staleUpdate', { expression: `${sr.path}.meta.versionId`, message: `ServiceRequest/${target.id} has changed since version ${ifMatch}: read it again and send the cancellation based on its current version` });
      }
      throw err;
    }
    return { stored: [{ entry: sr, type: 'ServiceRequest', id: target.id!, action: 'updated' }], resources: new Map([[`ServiceRequest/${target.id}`, written]]) };
  }

  /**
   * What the single front door made of a change (its policy ran when the referral was written, as
   * for REST: an update re-screened it, a cancellation cancelled its Tasks; pathway/write-policies.ts):
   * the triage Task, and one issue per minimum dataset gap still open.
   */
  private async frontDoor(store: ResourceStore, stored: StoredEntry[], check: ChangeCheck): Promise<{ tasks: Task[]; issues: OperationOutcomeIssue[] }> {
    const referral = stored.find((s) => s.type === 'ServiceRequest' && s.entry.index === check.focus.index) ?? stored.find((s) => s.type === 'ServiceRequest');
    const task = referral && (await findTriageTask(store, referral.id));
    if (!referral || !task) return { tasks: [], issues: [] };
    const gaps = check.kind === 'cancel' ? [] : screenMinimumDataset(await loadReferralContext(store, referral.id), publishedMinimumDataset()).gaps;
    return { tasks: [task], issues: triageIssues(task, gaps) };
  }

  /** The stored referral an update or cancellation is about: by the id Stepwise gave it, or by the sender's earlier reference. */
  private async targetOf(store: ResourceStore, tx: Queryable, message: Message, sr: MessageEntry & { resource: ServiceRequest }): Promise<ServiceRequest> {
    const ids = [sr.resource.id, /ServiceRequest\/([A-Za-z0-9\-.]{1,64})$/.exec(sr.fullUrl ?? '')?.[1]].filter((x): x is string => !!x);
    for (const id of ids) {
      const found = (await store.readOrUndefined('ServiceRequest', id)) as ServiceRequest | undefined;
      if (found) {
        // only the service that sent a referral may change it
        const senders = await tx.query<{ source: string }>("SELECT DISTINCT source FROM message_reference WHERE type = 'ServiceRequest' AND id = $1", [id]);
        if (senders.length && !senders.some((r) => r.source === message.source)) {
          throw refuse('notSender', {
            expression: `${HEADER_PATH}.source.endpoint`,
            message: `ServiceRequest/${id} was sent by ${senders.map((r) => r.source || '(no source endpoint)').join(', ')}; only its sender can ${message.reason === 'update' ? 'update or cancel' : 'cancel'} it`,
          });
        }
        return found;
      }
    }
    if (sr.fullUrl) {
      const rows = await tx.query<{ id: string }>("SELECT id FROM message_reference WHERE source = $1 AND reference = $2 AND type = 'ServiceRequest'", [message.source, sr.fullUrl]);
      const found = rows[0] && ((await store.readOrUndefined('ServiceRequest', rows[0].id)) as ServiceRequest | undefined);
      if (found) return found;
    }
    throw refuse('unknownReferral', {
      expression: sr.path,
      message: `The ServiceRequest this ${message.reason} refers to (${[...ids, sr.fullUrl].filter(Boolean).join(', ')}) is not known here; send the id Stepwise returned for the referral`,
    });
  }

  /** Whether a BaRS message with this X-Request-ID was processed (asked only of a message about to be refused). */
  private async processedBefore(requestId: string | undefined): Promise<boolean> {
    if (!requestId) return false;
    const rows = await this.deps.db.query("SELECT 1 FROM message_log WHERE disposition = 'processed' AND bars AND request_id = $1 LIMIT 1", [requestId]);
    return rows.length > 0;
  }

  private async duplicate(row: LogKeys, message: Message, input: ProcessInput, echo: Record<string, string>): Promise<ProcessResult> {
    const requestId = row.bars ? (row.headers.requestId ?? null) : null;
    const rows = await this.deps.db.query<{ seq: string; request_id: string | null; status: number; response: string }>(
      `SELECT seq::text AS seq, request_id, status, response FROM message_log
        WHERE disposition = 'processed' AND ((bars AND request_id = $1) OR (source = $2 AND bundle_id = $3)) ORDER BY seq LIMIT 2`,
      [requestId, message.source, message.id ?? null],
    );
    if (row.bars) {
      const sameRequest = rows.find((r) => requestId !== null && r.request_id === requestId);
      const err = sameRequest
        ? refuse('reusedRequestId', { expression: 'http.X-Request-ID', message: `X-Request-ID ${requestId} was already processed (message ${sameRequest.seq}); a new request needs a new X-Request-ID` })
        : refuse('reusedBundleId', { expression: 'Bundle.id', message: `Bundle.id ${message.id} was already processed (message ${rows[0]?.seq}); every BaRS message needs a new Bundle.id` });
      return this.reject(row, err, input, echo, false, 'duplicate');
    }
    // FHIR messaging: a message received again gets the original response again.
    const original = rows[0];
    if (!original) throw new Error('a duplicate message whose original is not in the log');
    const response = JSON.parse(original.response) as Bundle;
    await this.logAlone({ ...row, message, disposition: 'duplicate', outcome: 'ok', status: original.status, response }, input);
    return { status: original.status, body: response, headers: echo, disposition: 'duplicate' };
  }

  private async reject(
    row: LogKeys,
    err: FhirError,
    input: ProcessInput,
    echo: Record<string, string>,
    async: boolean,
    disposition: Disposition = 'rejected',
  ): Promise<ProcessResult> {
    const outcome = toOperationOutcome(err);
    const code: ResponseCode = err.status >= 500 ? 'transient-error' : 'fatal-error';
    const message = row.message;
    if (async && message) {
      const response = responseMessage(message, { correlateBundleId: false, code, outcome, baseUrl: input.baseUrl, now: this.deps.clock.now() });
      await this.recordBatch({ ...row, disposition, outcome: code, status: 202, response, failure: err.message, failureStatus: err.status }, input, true).run(this.deps.db);
      return { status: 202, body: accepted(message), headers: echo, disposition };
    }
    await this.logAlone({ ...row, disposition, outcome: code, status: err.status, response: outcome, failure: err.message }, input);
    return { status: err.status, body: outcome, headers: echo, disposition };
  }

  /**
   * The statement that records a message: its log row first, as the gate (a processed copy
   * already holding the row's keys makes it insert nothing, and then nothing else is written),
   * the AuditEvent, the response queued in the outbox for `async`, and what `content` brings:
   * the message's new resources, claims and references, and the front door's Tasks.
   */
  private recordBatch(
    row: LogRow,
    input: ProcessInput,
    queue: boolean,
    content: { plan?: ContentPlan; creates?: { resource: Resource; id: string }[]; patient?: string; outbound?: OutboxMessage[] } = {},
  ): WriteBatch {
    const m = row.message;
    const now = this.deps.clock.now().toISOString();
    const batch = new WriteBatch();
    batch.with(
      'log',
      (p) => `INSERT INTO message_log (received_at, request_id, correlation_id, bundle_id, source, event, reason, bars, disposition, outcome, status, focus, response)
       VALUES (${[now, row.headers.requestId ?? null, row.headers.correlationId ?? null, m?.id ?? null, m?.source ?? '', m?.event.code ?? null, m?.reason ?? null, row.bars, row.disposition, row.outcome, row.status, row.focus ?? null, JSON.stringify(row.response)].map((v) => p.add(v)).join(', ')})
       ON CONFLICT DO NOTHING RETURNING seq::text AS seq`,
    );
    const gate = 'EXISTS (SELECT 1 FROM log)';
    const creates = content.creates ?? [];
    if (content.plan) addPlanToBatch(batch, this.store, content.plan, m?.source ?? '', gate, creates);
    else this.store.addCreates(batch, creates, { when: gate });
    addAuditInserts(batch, [this.auditOf(row, input, content.patient)], gate);
    // the async answer first, then what the front door asks of the sender: delivered in this order (delivery/outbox.ts)
    const outbound = [...(queue && m ? [asyncAnswer(row, m)] : []), ...(content.outbound ?? [])];
    addOutboxInserts(batch, outbound, this.deps.clock.now(), gate);
    return batch;
  }

  /** The AuditEvent of a message: who sent it, what it was, what it touched, how it ended. */
  private auditOf(row: LogRow, input: ProcessInput, patient: string | undefined): AuditEvent {
    const m = row.message;
    return auditEvent({
      interaction: 'operation',
      action: 'E',
      recorded: this.deps.clock.now(),
      status: row.failureStatus ?? row.status,
      outcomeText: row.failure,
      // the authenticated sender; what the message says of its sender is a claim, recorded as such (issue 13: BaRS headers are recorded, never trusted)
      requestor: input.requestor ?? UNAUTHENTICATED_SENDER,
      observer: input.baseUrl,
      request: {
        name: `$process-message ${m?.event.code ?? '(unreadable message)'}${m?.reason ? ` (${m.reason})` : ''}: ${row.disposition}`,
        details: { 'Bundle.id': m?.id, 'X-Request-ID': row.headers.requestId, 'X-Correlation-ID': row.headers.correlationId, ...claimedSender(row, m) },
      },
      focus: row.focus ? [{ reference: row.focus }] : [],
      patient: patient ? { reference: patient } : undefined,
    });
  }

  private async logAlone(row: LogRow, input: ProcessInput): Promise<void> {
    await this.recordBatch(row, input, false).run(this.deps.db);
  }
}

const MAX_ATTEMPTS = 5;

/**
 * An `async=true` answer, for the outbox: to the message's source endpoint (MessageHeader.source,
 * which a partner in STEPWISE_PARTNERS lists among its addresses), with the request's
 * correlation id and use-context, in order with the referral's other messages.
 */
function asyncAnswer(row: LogRow, m: Message): OutboxMessage {
  const u = row.headers.useContext;
  return {
    topic: 'bars-async-response',
    partner: m.source || '(no source endpoint)',
    idempotencyKey: randomUUID(),
    orderingKey: row.focus,
    contentType: 'application/fhir+json',
    payload: JSON.stringify(row.sent ?? row.response),
    headers: {
      ...(row.headers.correlationId ? { 'X-Correlation-ID': row.headers.correlationId } : {}),
      ...(u ? { 'use-context': `${u.useCase}|${u.category}|${u.event}|${u.reason}` } : {}),
    },
  };
}

/** The audit's requestor of a message processed without an authenticated principal (not over HTTP). */
const UNAUTHENTICATED_SENDER: AuditRequest['requestor'] = { name: 'no authenticated principal (message processed by the server itself)' };

/**
 * Who the message says sent it: the NHSD-End-User-Organisation header's organisation (its ODS
 * identifier as `system|value`) and the MessageHeader's source. Details of the audit's request
 * entity, beside the authenticated requestor: a claim to compare with it, not who it was.
 */
function claimedSender(row: LogRow, m: Message | undefined): Record<string, string | undefined> {
  const org = row.headers.endUserOrganisation as { identifier?: Identifier | Identifier[]; name?: unknown } | undefined;
  const id = Array.isArray(org?.identifier) ? org.identifier[0] : org?.identifier;
  const orgText = id?.value ? `${id.system ? `${id.system}|` : ''}${id.value}${typeof org?.name === 'string' ? ` (${org.name})` : ''}` : undefined;
  return {
    'NHSD-End-User-Organisation (claimed)': orgText,
    'MessageHeader.source (claimed)': [m?.header.source?.name, m?.source].filter(Boolean).join(' ') || undefined,
  };
}

/** The entry a response names as its focus: the checked focus, else the header's first. */
function focusOf(stored: StoredEntry[], message: Message, check: BarsCheck | undefined): StoredEntry | undefined {
  return stored.find((s) => s.entry.index === check?.focus?.index) ?? stored.find((s) => message.focus.some((f) => f.index === s.entry.index));
}

function patientOf(stored: StoredEntry[]): string | undefined {
  const p = stored.find((s) => s.type === 'Patient');
  return p && `Patient/${p.id}`;
}

/** Whether `r` refers to `target` through one of the `[type, param]` search parameters (as the index would). */
function refersTo(r: Resource, target: string, sources: [string, string][]): boolean {
  const params = sources.filter(([type]) => type === r.resourceType).map(([, param]) => param);
  if (params.length === 0) return false;
  return extractIndexRows(r).reference.some((x) => params.includes(x.param) && `${x.targetType}/${x.targetId}` === target);
}

function invalid(bars: boolean, issues: IssueInit[]): FhirError {
  return bars ? barsError(FhirErrorCode.INVALID, issues) : new FhirError(FhirErrorCode.INVALID, issues);
}

function echoHeaders(h: RawMessageHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  if (h.requestId) out['X-Request-ID'] = h.requestId;
  if (h.correlationId) out['X-Correlation-ID'] = h.correlationId;
  return out;
}

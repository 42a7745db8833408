import { randomUUID } from 'node:crypto';
import type { Bundle, Coding, MessageHeader, OperationOutcome, OperationOutcomeIssue, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Clock } from '../clock.js';
import { FhirError, FhirErrorCode, toOperationOutcome, type IssueInit } from '../errors.js';
import { stepwiseCodeSystemUrl } from '../fhir/canonical.js';
import type { Validator } from '../fhir/validation/index.js';
import { PATHWAY } from '../pathway/codes.js';
import { admitReferral, rescreenReferral, withdrawReferral } from '../pathway/front-door.js';
import type { MdsGap } from '../pathway/mds-screen.js';
import type { Database, Queryable } from '../store/database.js';
import { ResourceStore } from '../store/resource-store.js';
import { barsError, withBarsCodes } from './bars.js';
import { checkBarsMessage, isBarsEvent, type BarsCheck } from './bars-rules.js';
import type { MessageCatalogue } from './catalogue.js';
import { parseBarsHeaders, PROCESS_MESSAGE_REQUIRED, type BarsHeaders, type RawMessageHeaders } from './headers.js';
import { HEADER_PATH, readMessage, type Message, type MessageEntry } from './message.js';
import { nearMissSystems, storeMessageContent, type StoredEntry } from './persist.js';

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
}

export interface ProcessInput {
  body: unknown;
  headers: RawMessageHeaders;
  /** `async=true`: accept with 202 and queue the response message in the outbox. */
  async: boolean;
  /** The FHIR base URL, the source endpoint of response messages. */
  baseUrl: string;
}

export type Disposition = 'processed' | 'rejected' | 'duplicate';

export interface ProcessResult {
  status: number;
  body: Bundle | OperationOutcome;
  headers: Record<string, string>;
  disposition: Disposition;
}

type ResponseCode = 'ok' | 'transient-error' | 'fatal-error';

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
}

/**
 * $process-message (http://hl7.org/fhir/R4/messageheader-operation-process-message.html) and the
 * BaRS receiver: checks a message, stores what it carries in one transaction, answers with a
 * response message, and logs exactly one outcome for every message: processed, rejected (nothing
 * else is left behind) or duplicate.
 */
export class MessageProcessor {
  private readonly events: Coding[];

  constructor(private readonly deps: MessagingDeps) {
    this.events = deps.events ?? DEFAULT_EVENTS;
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
    try {
      check = bars ? checkBarsMessage(message, headerCheck.headers, this.deps.catalogue, this.deps.validator()) : this.checkGeneric(message);
    } catch (err) {
      if (err instanceof FhirError) return this.reject(row, err, input, echo, input.async);
      throw err;
    }

    try {
      const result = await this.deps.db.transaction(async (tx) => {
        const store = new ResourceStore(this.deps.db, this.deps.clock, tx, true);
        const stored = await this.store(store, tx, message, check);
        const focus = stored.find((s) => s.entry.index === check?.focus?.index) ?? stored.find((s) => message.focus.some((f) => f.index === s.entry.index));
        const triage = await this.frontDoor(store, stored, check);
        const response = this.responseMessage(message, bars, 'ok', storedOutcome(stored, [...triage, ...nearMissWarnings(message)]), input.baseUrl, focus ? `${focus.type}/${focus.id}` : undefined);
        const status = input.async ? 202 : 200;
        const seq = await this.log(tx, { ...row, disposition: 'processed', outcome: 'ok', status, focus: focus && `${focus.type}/${focus.id}`, response });
        if (seq === undefined) throw new DuplicateMessage();
        if (input.async) await this.queue(tx, seq, message, response);
        return { status, body: input.async ? accepted(message) : response, headers: echo, disposition: 'processed' as const };
      });
      return result;
    } catch (err) {
      if (err instanceof DuplicateMessage) return this.duplicate(row, message, input, echo);
      if (err instanceof FhirError) return this.reject(row, bars ? withBarsCodes(err) : err, input, echo, input.async);
      await this.logAlone({ ...row, disposition: 'rejected', outcome: 'transient-error', status: 500, response: toOperationOutcome(new FhirError(FhirErrorCode.INTERNAL, 'internal error')) }).catch(() => undefined);
      throw err;
    }
  }

  /** FHIR messaging outside BaRS: a configured event, and a Bundle valid against R4 and its declared profiles. */
  private checkGeneric(message: Message): undefined {
    const known = this.events.some((e) => e.system === message.event.system && e.code === message.event.code);
    if (!known) {
      throw new FhirError(FhirErrorCode.UNPROCESSABLE, {
        code: 'not-supported',
        expression: 'Bundle.entry[0].resource.eventCoding',
        message: `Event ${message.event.system ?? ''}|${message.event.code} is not processed here; accepted: ${[...this.events.map((e) => `${e.system}|${e.code}`), 'the BaRS events'].join(', ')}`,
      });
    }
    const errors = this.deps.validator().validate(message.bundle).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (errors.length) throw FhirError.fromIssues(FhirErrorCode.INVALID, errors);
    return undefined;
  }

  private async store(store: ResourceStore, tx: Queryable, message: Message, check: BarsCheck | undefined): Promise<StoredEntry[]> {
    if (!check || check.kind === 'new' || !check.focus) return storeMessageContent(store, tx, message, { followReferences: false });
    const sr = check.focus;
    const target = await this.targetOf(store, tx, message, sr);
    const ifMatch = sr.resource.meta?.versionId && /^\d+$/.test(sr.resource.meta.versionId) ? Number(sr.resource.meta.versionId) : undefined;
    if (check.kind === 'update') return storeMessageContent(store, tx, message, { followReferences: true, updates: new Map([[sr.index, { id: target.id!, ifMatch }]]) });
    // A cancellation changes the referral's status (and reason, which BaRS sends only on cancel).
    const cancelled: ServiceRequest = { ...target, status: sr.resource.status, ...(sr.resource.reasonCode ? { reasonCode: sr.resource.reasonCode } : {}) };
    try {
      await store.update(cancelled, { ifMatch });
    } catch (err) {
      if (err instanceof FhirError && err.code === FhirErrorCode.PRECONDITION_FAILED) {
        throw new FhirError(FhirErrorCode.CONFLICT, { code: 'conflict', expression: `${sr.path}.meta.versionId`, message: `ServiceRequest/${target.id} has changed since version ${ifMatch}: read it again and send the cancellation based on its current version` });
      }
      throw err;
    }
    return [{ entry: sr, type: 'ServiceRequest', id: target.id!, action: 'updated' }];
  }

  /**
   * The single front door, in the message's transaction: a new referral gets its triage Task, an
   * update re-screens it, a cancellation cancels it (src/pathway/front-door.ts). Answers the
   * Task and one issue per minimum dataset gap.
   */
  private async frontDoor(store: ResourceStore, stored: StoredEntry[], check: BarsCheck | undefined): Promise<OperationOutcomeIssue[]> {
    const kind = check?.kind ?? 'new';
    const referral = stored.find((s) => s.type === 'ServiceRequest' && s.entry.index === check?.focus?.index) ?? stored.find((s) => s.type === 'ServiceRequest');
    if (!referral) return [];
    if (kind === 'cancel') {
      const task = await withdrawReferral(store, referral.id, 'The referrer cancelled the referral');
      return task ? triageIssues(task, []) : [];
    }
    const opts = { clock: this.deps.clock };
    const result = kind === 'update' ? await rescreenReferral(store, referral.id, opts) : await admitReferral(store, { serviceRequestId: referral.id }, opts);
    return triageIssues(result.task, result.gaps);
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
          throw new FhirError(FhirErrorCode.FORBIDDEN, {
            code: 'forbidden',
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
    throw new FhirError(FhirErrorCode.NOT_FOUND, {
      code: 'not-found',
      expression: sr.path,
      message: `The ServiceRequest this ${message.reason} refers to (${[...ids, sr.fullUrl].filter(Boolean).join(', ')}) is not known here; send the id Stepwise returned for the referral`,
    });
  }

  private async duplicate(row: Omit<LogRow, 'disposition' | 'outcome' | 'status' | 'response'>, message: Message, input: ProcessInput, echo: Record<string, string>): Promise<ProcessResult> {
    const requestId = row.bars ? (row.headers.requestId ?? null) : null;
    const rows = await this.deps.db.query<{ seq: string; request_id: string | null; status: number; response: string }>(
      `SELECT seq::text AS seq, request_id, status, response FROM message_log
        WHERE disposition = 'processed' AND ((bars AND request_id = $1) OR (source = $2 AND bundle_id = $3)) ORDER BY seq LIMIT 2`,
      [requestId, message.source, message.id ?? null],
    );
    if (row.bars) {
      const sameRequest = rows.find((r) => requestId !== null && r.request_id === requestId);
      const err = sameRequest
        ? barsError(FhirErrorCode.CONFLICT, { code: 'duplicate', expression: 'http.X-Request-ID', message: `X-Request-ID ${requestId} was already processed (message ${sameRequest.seq}); a new request needs a new X-Request-ID` })
        : barsError(FhirErrorCode.INVALID, { code: 'invariant', expression: 'Bundle.id', message: `Bundle.id ${message.id} was already processed (message ${rows[0]?.seq}); every BaRS message needs a new Bundle.id` });
      return this.reject(row, err, input, echo, false, 'duplicate');
    }
    // FHIR messaging: a message received again gets the original response again.
    const original = rows[0];
    if (!original) throw new Error('a duplicate message whose original is not in the log');
    const response = JSON.parse(original.response) as Bundle;
    await this.logAlone({ ...row, message, disposition: 'duplicate', outcome: 'ok', status: original.status, response });
    return { status: original.status, body: response, headers: echo, disposition: 'duplicate' };
  }

  private async reject(
    row: Omit<LogRow, 'disposition' | 'outcome' | 'status' | 'response'>,
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
      const response = this.responseMessage(message, row.bars, code, outcome, input.baseUrl, undefined);
      await this.deps.db.transaction(async (tx) => {
        const seq = await this.log(tx, { ...row, disposition, outcome: code, status: 202, response });
        await this.queue(tx, seq!, message, response);
      });
      return { status: 202, body: accepted(message), headers: echo, disposition };
    }
    await this.logAlone({ ...row, disposition, outcome: code, status: err.status, response: outcome });
    return { status: err.status, body: outcome, headers: echo, disposition };
  }

  private responseMessage(message: Message, bars: boolean, code: ResponseCode, outcome: OperationOutcome, baseUrl: string, focus: string | undefined): Bundle {
    const outcomeId = randomUUID();
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
      ...(focus ? { focus: [{ reference: focus }] } : {}),
    };
    return {
      resourceType: 'Bundle',
      id: randomUUID(),
      type: 'message',
      timestamp: this.deps.clock.now().toISOString(),
      entry: [
        { fullUrl: `urn:uuid:${header.id}`, resource: header },
        { fullUrl: `urn:uuid:${outcomeId}`, resource: { ...outcome, id: outcomeId } },
      ],
    };
  }

  /** Writes the log row; undefined when a processed copy already holds one of its keys. */
  private async log(q: Queryable, row: LogRow): Promise<number | undefined> {
    const m = row.message;
    const rows = await q.query<{ seq: string }>(
      `INSERT INTO message_log (received_at, request_id, correlation_id, bundle_id, source, event, reason, bars, disposition, outcome, status, focus, response)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT DO NOTHING RETURNING seq::text AS seq`,
      [
        this.deps.clock.now().toISOString(),
        row.headers.requestId ?? null,
        row.headers.correlationId ?? null,
        m?.id ?? null,
        m?.source ?? '',
        m?.event.code ?? null,
        m?.reason ?? null,
        row.bars,
        row.disposition,
        row.outcome,
        row.status,
        row.focus ?? null,
        JSON.stringify(row.response),
      ],
      { prepare: true },
    );
    return rows[0] ? Number(rows[0].seq) : undefined;
  }

  private async logAlone(row: LogRow): Promise<void> {
    await this.deps.db.transaction((tx) => this.log(tx, row));
  }

  private async queue(q: Queryable, seq: number, message: Message, response: Bundle): Promise<void> {
    await q.query('INSERT INTO message_outbox (created_at, message_seq, destination, content) VALUES ($1, $2, $3, $4)', [
      this.deps.clock.now().toISOString(),
      seq,
      message.source || null,
      JSON.stringify(response),
    ]);
  }
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

/** The triage Task the referral got, and each minimum dataset gap the sender can fill. */
function triageIssues(task: Task, gaps: MdsGap[]): OperationOutcomeIssue[] {
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
function storedOutcome(stored: StoredEntry[], triage: OperationOutcomeIssue[] = []): OperationOutcome {
  const issue: OperationOutcomeIssue[] = stored.map((s) => {
    const text = `${s.entry.fullUrl ?? `entry ${s.entry.index}`} ${s.action === 'matched' ? `matched ${s.type}/${s.id} on ${s.matchedOn}` : `${s.action} as ${s.type}/${s.id}`}`;
    return { severity: 'information', code: 'informational', expression: [s.entry.path], diagnostics: text, details: { text } };
  });
  issue.push(...triage);
  return { resourceType: 'OperationOutcome', issue: issue.length ? issue : [{ severity: 'information', code: 'informational', diagnostics: 'Message processed' }] };
}

/** Warnings for identifier systems that miss a national system by case or scheme: not matched on. */
function nearMissWarnings(message: Message): OperationOutcomeIssue[] {
  return nearMissSystems(message.entries).map((n) => {
    const text = `Identifier system ${n.system} is not ${n.meant} (URIs are compared exactly), so this identifier was not used to match an existing resource`;
    return { severity: 'warning', code: 'value', expression: [n.expression], diagnostics: text, details: { text } };
  });
}

function accepted(message: Message): OperationOutcome {
  const text = `Message ${message.id ?? ''} accepted; the response message will be sent to ${message.source || 'the sender'}`;
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: text, details: { text } }] };
}


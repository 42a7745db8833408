import { randomUUID } from 'node:crypto';
import type { AuditEvent, Bundle, Resource } from '@medplum/fhirtypes';
import { transmitAuditEvent } from '../audit/transmit-event.js';
import type { Clock } from '../clock.js';
import { partnerFor, type Partner } from '../config/partners.js';
import type { Logger } from '../logger.js';
import { addAuditInserts } from '../store/audit-log.js';
import type { Queryable } from '../store/database.js';
import { WriteBatch } from '../store/write-batch.js';
import { barsRequestHeaders, type Sender } from './bars-headers.js';
import { CredentialsError, PartnerCredentials } from './credentials.js';
import { nextAttempt, type RetryPolicy } from './backoff.js';
import type { Transport } from './transport.js';

export interface SenderOptions extends RetryPolicy {
  db: Queryable;
  clock: Clock;
  partners: readonly Partner[];
  transport: Transport;
  /** Requests in flight at once: also the most rows one claim takes. */
  concurrency: number;
  /** How long a claimed row is this sender's; then any instance may claim it again. */
  leaseMs: number;
  /** Who we are in the BaRS headers (NHSD-End-User-Organisation, NHSD-Requesting-Software). */
  sender: Sender;
  logger?: Logger;
  /** Tests: 0..1, for the jitter. */
  random?: () => number;
}

interface Claimed {
  id: string;
  topic: string;
  ordering_key: string | null;
  partner: string;
  idempotency_key: string;
  content_type: string;
  payload: string;
  headers: Record<string, string> | string;
  attempts: number;
  retry_since: Date | string;
  lease_token: string;
}

export type Result = 'delivered' | 'retry' | 'dead';

/** What one delivery came to, recorded with the others of its run. */
interface Outcome {
  row: Claimed;
  result: Result;
  status: number | null;
  error: string | null;
  retryAt?: Date;
}

export interface RunSummary {
  delivered: number;
  retried: number;
  dead: number;
}

/**
 * Delivers the outbox. A run claims due rows (`FOR UPDATE SKIP LOCKED`, so several instances
 * share the work and never claim the same row), leases them (`state` delivering, due again when
 * the lease ends: a killed instance's rows are sent again by any instance), posts each to its
 * partner with the idempotency key as X-Request-ID, and records what happened: delivered; retried
 * with exponential back-off and jitter; or dead once the retry horizon is passed or the partner
 * refuses the message itself (a 4xx other than 408, 409 and 429). A row is claimed only when no
 * earlier row for the same partner and ordering key (a referral) is undelivered, so a referral's
 * messages arrive in order.
 *
 * At least once, made exactly once by the partner: a sender killed between the partner's answer
 * and recording it sends the row again after the lease, with the same X-Request-ID.
 */
export class OutboxSender {
  private readonly credentials: PartnerCredentials;
  private readonly random: () => number;

  constructor(private readonly opts: SenderOptions) {
    this.credentials = new PartnerCredentials(opts.clock, opts.transport);
    this.random = opts.random ?? Math.random;
  }

  /** One claim and its deliveries, their outcomes recorded in one statement; returns what happened (all zero: nothing was due). */
  async runOnce(): Promise<RunSummary> {
    const rows = await this.claim(this.opts.concurrency);
    const outcomes = await Promise.all(rows.map((row) => this.safely(row)));
    await this.record(outcomes);
    return tally({ delivered: 0, retried: 0, dead: 0 }, outcomes);
  }

  /**
   * Delivers until nothing more is due now, keeping up to `concurrency` requests in flight: slots
   * freed by answers are claimed again (a quarter of them at a time, so claims and records stay
   * few), so a slow partner holds only its own requests, never a whole run. Finished deliveries
   * are recorded together. A delivery may make the next message of its referral due, so the sender
   * claims again after one.
   */
  async drain(): Promise<RunSummary> {
    const total: RunSummary = { delivered: 0, retried: 0, dead: 0 };
    const slots = this.opts.concurrency;
    const batch = Math.max(1, Math.ceil(slots / 4));
    const inFlight = new Set<Promise<void>>();
    const finished: Outcome[] = [];
    let more = true;
    for (;;) {
      const free = slots - inFlight.size;
      if (more && free > 0 && (free >= batch || inFlight.size === 0)) {
        const rows = await this.claim(free);
        more = rows.length === free;
        for (const row of rows) {
          const p: Promise<void> = this.safely(row).then((o) => {
            finished.push(o);
            inFlight.delete(p);
          });
          inFlight.add(p);
        }
      }
      if (inFlight.size === 0 && finished.length === 0) return total;
      if (finished.length < batch && inFlight.size > 0) {
        await Promise.race(inFlight);
        // answers that arrived in the same turn count together
        await new Promise((r) => setImmediate(r));
        if (finished.length < batch && inFlight.size > 0) continue;
      }
      const done = finished.splice(0);
      await this.record(done);
      tally(total, done);
      if (done.some((o) => o.result === 'delivered')) more = true;
    }
  }

  private async claim(limit: number): Promise<Claimed[]> {
    const now = this.opts.clock.now();
    const token = randomUUID();
    const rows = await this.opts.db.query<Claimed>(
      `WITH due AS (
         SELECT o.id FROM outbox o
          WHERE o.state IN ('pending', 'delivering') AND o.next_attempt_at <= $1::timestamptz
            AND (o.ordering_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM outbox e
                   WHERE e.partner = o.partner AND e.ordering_key = o.ordering_key AND e.id < o.id AND e.state <> 'delivered'))
          ORDER BY o.next_attempt_at, o.id
          LIMIT $2 FOR UPDATE OF o SKIP LOCKED)
       UPDATE outbox SET state = 'delivering', attempts = outbox.attempts + 1, next_attempt_at = $3::timestamptz, lease_token = $4, updated_at = $1::timestamptz
         FROM due WHERE outbox.id = due.id
       RETURNING outbox.id::text AS id, topic, ordering_key, partner, idempotency_key, content_type, payload, headers, attempts, retry_since, lease_token`,
      [now.toISOString(), limit, new Date(now.getTime() + this.opts.leaseMs).toISOString(), token],
    );
    // the claim has no order of its own: oldest first, as claimed
    return rows.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** A delivery never rejects: what went wrong is its outcome. */
  private safely(row: Claimed): Promise<Outcome> {
    return this.deliver(row).catch((err: unknown) => this.retryOrDie(row, null, `delivery failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  private async deliver(row: Claimed): Promise<Outcome> {
    const partner = partnerFor(this.opts.partners, row.partner);
    if (!partner) return this.finish(row, 'dead', null, `no partner is configured for '${row.partner}' (STEPWISE_PARTNERS: an id, or an address); configure one, then replay`);
    let status: number;
    let answer: string;
    try {
      const authorization = await this.credentials.authorization(partner);
      const stored = typeof row.headers === 'string' ? (JSON.parse(row.headers) as Record<string, string>) : row.headers;
      const headers = barsRequestHeaders({ stored, requestId: row.idempotency_key, contentType: row.content_type, address: row.partner, sender: this.opts.sender, authorization });
      ({ status, body: answer } = await this.opts.transport(`${partner.endpoint}/$process-message`, { headers, body: row.payload, timeoutMs: partner.timeoutSeconds * 1000 }));
    } catch (err) {
      const what = err instanceof CredentialsError ? err.message : `request to ${partner.endpoint} failed: ${(err as Error).message}`;
      return this.retryOrDie(row, null, what);
    }
    if (status >= 200 && status < 300) return this.finish(row, 'delivered', status, null);
    // BaRS answers 409 to an X-Request-ID it processed already: the partner has this message
    if (status === 409) return this.finish(row, 'delivered', status, `the partner already had this X-Request-ID (409): ${answer.slice(0, 500)}`);
    if (status === 401) this.credentials.forget(partner);
    const what = `${partner.endpoint}/$process-message answered ${status}: ${answer.slice(0, 1000)}`;
    if (status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 429) return this.finish(row, 'dead', status, `${what} (refused: not retried)`);
    return this.retryOrDie(row, status, what);
  }

  private retryOrDie(row: Claimed, status: number | null, error: string): Outcome {
    const now = this.opts.clock.now();
    const at = nextAttempt(this.opts, { attempts: row.attempts, retrySince: new Date(row.retry_since), now, random: this.random() });
    if (!at) return this.finish(row, 'dead', status, `${error} (retried ${row.attempts} times, past the retry horizon)`);
    return this.finish(row, 'retry', status, error, at);
  }

  private finish(row: Claimed, result: Result, status: number | null, error: string | null, retryAt?: Date): Outcome {
    if (result !== 'delivered') this.opts.logger?.warn({ outbox: row.id, partner: row.partner, attempts: row.attempts, status, err: error }, result === 'dead' ? 'outbound message dead-lettered' : 'outbound message failed; retrying later');
    return { row, result, status, error, retryAt };
  }

  /**
   * Records outcomes in one statement, each only if its lease is still ours: a row whose lease ran
   * out may be another sender's now, and what that sender finds stands. A message delivered or
   * gone dead leaves its AuditEvent (audit/transmit-event.ts) in the same statement, written only
   * with its row's outcome (gated on the rows the update kept), so a record and its AuditEvent
   * commit together and a lease lost to another sender records neither.
   */
  private async record(outcomes: Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const now = this.opts.clock.now();
    const events = outcomes.map((o) => (o.result === 'retry' ? undefined : this.auditEventOf(o, now)));
    const batch = new WriteBatch();
    const recorded = batch.fresh('recorded');
    batch.with(recorded, (p) => {
      const at = p.add(now.toISOString(), 'timestamptz');
      const ids = p.add(outcomes.map((o) => o.row.id), 'bigint[]');
      const tokens = p.add(outcomes.map((o) => o.row.lease_token), 'text[]');
      const states = p.add(outcomes.map((o) => (o.result === 'retry' ? 'pending' : o.result)), 'text[]');
      const statuses = p.add(outcomes.map((o) => o.status), 'int[]');
      const errors = p.add(outcomes.map((o) => o.error), 'text[]');
      const retryAts = p.add(outcomes.map((o) => o.retryAt?.toISOString() ?? null), 'timestamptz[]');
      const auditIds = p.add(events.map((e) => e?.id ?? null), 'text[]');
      return `UPDATE outbox o SET state = v.state, last_status = v.status, last_error = v.error, updated_at = ${at}, lease_token = NULL,
              next_attempt_at = COALESCE(v.retry_at, o.next_attempt_at), delivered_at = CASE WHEN v.state = 'delivered' THEN ${at} ELSE o.delivered_at END
         FROM unnest(${ids}, ${tokens}, ${states}, ${statuses}, ${errors}, ${retryAts}, ${auditIds}) AS v(id, token, state, status, error, retry_at, audit_id)
        WHERE o.id = v.id AND o.lease_token = v.token
        RETURNING v.audit_id`;
    });
    const kept = events.filter((e): e is AuditEvent & { id: string } => e !== undefined);
    addAuditInserts(batch, kept, `u.id IN (SELECT audit_id FROM ${recorded})`, true);
    await batch.run(this.opts.db);
  }

  /** The AuditEvent of a message delivered or gone dead: the partner, the outcome, the patient and record it is about. */
  private auditEventOf(o: Outcome, now: Date): AuditEvent & { id: string } {
    const partner = partnerFor(this.opts.partners, o.row.partner);
    const about = aboutOf(o.row);
    return {
      ...transmitAuditEvent({
        recorded: now,
        status: o.status,
        delivered: o.result === 'delivered',
        error: o.error,
        sender: this.opts.sender,
        partner: { id: partner?.id ?? o.row.partner, endpoint: partner?.endpoint },
        message: { requestId: o.row.idempotency_key, topic: o.row.topic, outboxId: o.row.id, attempts: o.row.attempts },
        ...about,
      }),
      id: randomUUID(),
    };
  }
}

/**
 * The patient and the record a message is about, read from its payload (a FHIR message: the
 * MessageHeader's focus, the Patient it carries, each under the id it has here), else from its
 * ordering key. A payload that is not such a message names neither.
 */
function aboutOf(row: Claimed): { patient?: string; focus?: string } {
  const fromKey = (type: string) => (row.ordering_key?.startsWith(`${type}/`) ? row.ordering_key : undefined);
  let bundle: Bundle | undefined;
  try {
    bundle = row.content_type.includes('json') ? (JSON.parse(row.payload) as Bundle) : undefined;
  } catch {
    bundle = undefined;
  }
  const entries = bundle?.resourceType === 'Bundle' ? (bundle.entry ?? []) : [];
  const local = (r: Resource | undefined) => (r?.id ? `${r.resourceType}/${r.id}` : undefined);
  const focusRef = (entries[0]?.resource as { focus?: { reference?: string }[] } | undefined)?.focus?.[0]?.reference;
  const focused = focusRef ? entries.find((e) => e.fullUrl === focusRef || local(e.resource) === focusRef)?.resource : undefined;
  const patient = local(entries.find((e) => e.resource?.resourceType === 'Patient')?.resource) ?? fromKey('Patient');
  const focus = local(focused) ?? fromKey('ServiceRequest');
  return { ...(patient ? { patient } : {}), ...(focus ? { focus } : {}) };
}

function tally(summary: RunSummary, outcomes: readonly Outcome[]): RunSummary {
  for (const o of outcomes) {
    if (o.result === 'delivered') summary.delivered++;
    else if (o.result === 'retry') summary.retried++;
    else summary.dead++;
  }
  return summary;
}

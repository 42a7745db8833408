import type { Queryable } from '../store/database.js';
import type { WriteBatch } from '../store/write-batch.js';

/**
 * The outbox (migration 013): messages to partners, written with the change that caused them and
 * delivered by the sender (sender.ts). This file is the table's one gateway: queueing (in the
 * caller's transaction, or as a part of a messaging statement), and what operators do with it
 * (list, replay).
 */

export type OutboxState = 'pending' | 'delivering' | 'delivered' | 'dead';
export const OUTBOX_STATES: readonly OutboxState[] = ['pending', 'delivering', 'delivered', 'dead'];

/** What the sender should know of a message besides its body: the partner, and the keys that make delivery exactly-once and in order. */
export interface OutboxMessage {
  /** What kind of message it is, e.g. `bars-triage-outcome`, `bars-async-response`. */
  topic: string;
  /** Who it is for: a configured partner id, or the address the cause names (a BaRS `system|value` endpoint). */
  partner: string;
  /** Sent as X-Request-ID; a second row with the same partner and key is not queued (the first stands). */
  idempotencyKey: string;
  /** Messages with the same partner and ordering key are sent one at a time, oldest first (e.g. `ServiceRequest/<id>`). */
  orderingKey?: string;
  contentType: string;
  payload: string;
  /** Further request headers (the BaRS headers but X-Request-ID and authorisation, which the sender adds). */
  headers?: Record<string, string>;
}

export interface OutboxRow extends Required<Omit<OutboxMessage, 'orderingKey'>> {
  id: string;
  orderingKey: string | null;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: string;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

const COLUMNS = ['topic', 'partner', 'idempotency_key', 'ordering_key', 'content_type', 'payload', 'headers', 'next_attempt_at', 'created_at', 'retry_since', 'updated_at'] as const;

/**
 * Queues messages in the caller's transaction (one statement; rows get ids in the order given, so
 * a cause that queues two messages for one referral has them sent in that order). A message whose
 * (partner, idempotency key) is queued already is left as it was.
 */
export async function enqueue(q: Queryable, messages: readonly OutboxMessage[], now: Date): Promise<number> {
  if (messages.length === 0) return 0;
  const params: unknown[] = [];
  const rows = messages.map((m) => `(${valuesOf(m, now).map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
  const inserted = await q.query(
    `INSERT INTO outbox (${COLUMNS.join(', ')}) SELECT topic, partner, idempotency_key, ordering_key, content_type, payload, headers::jsonb, next_attempt_at::timestamptz, created_at::timestamptz, retry_since::timestamptz, updated_at::timestamptz
       FROM (VALUES ${rows.join(', ')}) AS v(${COLUMNS.join(', ')}) ON CONFLICT (partner, idempotency_key) DO NOTHING RETURNING id`,
    params,
  );
  return inserted.length;
}

/**
 * The same, as a part of a one-statement write (store/write-batch.ts), written only when `gate`
 * (an SQL condition over earlier parts, e.g. `EXISTS (SELECT 1 FROM log)`) holds.
 */
export function addOutboxInserts(batch: WriteBatch, messages: readonly OutboxMessage[], now: Date, gate?: string): void {
  if (messages.length === 0) return;
  batch.with(batch.fresh('outbox'), (p) => {
    const rows = messages.map((m, i) => `(${[i, ...valuesOf(m, now)].map((v) => p.add(v)).join(', ')})`);
    return `INSERT INTO outbox (${COLUMNS.join(', ')})
      SELECT topic, partner, idempotency_key, ordering_key, content_type, payload, headers::jsonb, next_attempt_at::timestamptz, created_at::timestamptz, retry_since::timestamptz, updated_at::timestamptz
        FROM (VALUES ${rows.join(', ')}) AS v(ord, ${COLUMNS.join(', ')})${gate ? ` WHERE ${gate}` : ''} ORDER BY ord::int
      ON CONFLICT (partner, idempotency_key) DO NOTHING RETURNING id`;
  });
}

function valuesOf(m: OutboxMessage, now: Date): unknown[] {
  const at = now.toISOString();
  return [m.topic, m.partner, m.idempotencyKey, m.orderingKey ?? null, m.contentType, m.payload, JSON.stringify(m.headers ?? {}), at, at, at, at];
}

export interface OutboxFilter {
  state?: OutboxState;
  partner?: string;
  topic?: string;
  /** Rows with ids above this (paging by id). */
  after?: string;
  limit?: number;
}

/** Rows by id, filtered; without the payload's text when `withPayload` is false. */
export async function listOutbox(q: Queryable, filter: OutboxFilter = {}, withPayload = false): Promise<OutboxRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => (params.push(v), where.push(sql.replace('?', `$${params.length}`)));
  if (filter.state) add('state = ?', filter.state);
  if (filter.partner) add('partner = ?', filter.partner);
  if (filter.topic) add('topic = ?', filter.topic);
  if (filter.after) add('id > ?::bigint', filter.after);
  params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
  const rows = await q.query<Record<string, unknown>>(
    `SELECT id::text AS id, topic, partner, idempotency_key, ordering_key, content_type, ${withPayload ? 'payload' : "'' AS payload"}, headers, state, attempts,
            next_attempt_at, last_status, last_error, created_at, updated_at, delivered_at
       FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $${params.length}`,
    params,
  );
  return rows.map(rowOf);
}

export async function readOutboxRow(q: Queryable, id: string): Promise<OutboxRow | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const [row] = await q.query<Record<string, unknown>>(
    `SELECT id::text AS id, topic, partner, idempotency_key, ordering_key, content_type, payload, headers, state, attempts,
            next_attempt_at, last_status, last_error, created_at, updated_at, delivered_at FROM outbox WHERE id = $1::bigint`,
    [id],
  );
  return row && rowOf(row);
}

/**
 * Sends a dead message again: pending, due now, its attempts counted afresh (its retry horizon runs
 * from now, `retry_since`). Only a dead row is replayed; returns whether it was.
 */
export async function replayDead(q: Queryable, id: string, now: Date): Promise<boolean> {
  if (!/^\d{1,18}$/.test(id)) return false;
  const rows = await q.query(
    `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $2::timestamptz, updated_at = $2::timestamptz, retry_since = $2::timestamptz, lease_token = NULL
      WHERE id = $1::bigint AND state = 'dead' RETURNING id`,
    [id, now.toISOString()],
  );
  return rows.length === 1;
}

/**
 * Deletes delivered messages delivered before `before`: their payloads are patient data a partner
 * now holds, kept here only as long as the deployment's retention says. Dead and pending rows are
 * never purged. Returns how many went.
 */
export async function purgeDelivered(q: Queryable, before: Date): Promise<number> {
  const rows = await q.query(`DELETE FROM outbox WHERE state = 'delivered' AND delivered_at < $1::timestamptz RETURNING id`, [before.toISOString()]);
  return rows.length;
}

/** How many rows are in each state (metrics, the CLI's summary). */
export async function countByState(q: Queryable): Promise<Record<OutboxState, number>> {
  const rows = await q.query<{ state: OutboxState; n: string }>('SELECT state, count(*)::text AS n FROM outbox GROUP BY state');
  const out = { pending: 0, delivering: 0, delivered: 0, dead: 0 };
  for (const r of rows) out[r.state] = Number(r.n);
  return out;
}

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
}

function rowOf(r: Record<string, unknown>): OutboxRow {
  return {
    id: String(r.id),
    topic: String(r.topic),
    partner: String(r.partner),
    idempotencyKey: String(r.idempotency_key),
    orderingKey: (r.ordering_key as string | null) ?? null,
    contentType: String(r.content_type),
    payload: String(r.payload),
    headers: (typeof r.headers === 'string' ? JSON.parse(r.headers) : r.headers) as Record<string, string>,
    state: r.state as OutboxState,
    attempts: Number(r.attempts),
    nextAttemptAt: iso(r.next_attempt_at),
    lastStatus: r.last_status === null || r.last_status === undefined ? null : Number(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    deliveredAt: r.delivered_at ? iso(r.delivered_at) : null,
  };
}

/**
 * Outbound delivery (src/delivery): one general outbox, not tied to the message log. A row is one
 * message for one partner, written in the same transaction (or statement) as the change that
 * caused it, so a message exists exactly when its cause committed. `partner` is who the message is
 * for as the cause names them (a configured partner id, or a BaRS address such as
 * `https://fhir.nhs.uk/Id/dos-service-id|2000099001`); the sender maps it to a configured partner
 * when it sends. `idempotency_key` is sent as the BaRS X-Request-ID, once per partner.
 * `ordering_key` (e.g. `ServiceRequest/<id>`) keeps a referral's messages in order: a row is not
 * sent while an earlier row with the same partner and ordering key is undelivered.
 *
 * States: pending (due at next_attempt_at), delivering (leased by a sender until next_attempt_at,
 * after which any instance may claim it again: a killed instance's rows are retried), delivered,
 * dead (gave up: listed and replayed by operators).
 *
 * The response messages `message_outbox` queued (async=true BaRS answers) move here; that table
 * is kept, unwritten, for history: its queued rows are copied and marked 'moved'.
 */
export const sql = `
CREATE TABLE outbox (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic            text        NOT NULL,
  partner          text        NOT NULL,
  idempotency_key  text        NOT NULL,
  ordering_key     text,
  content_type     text        NOT NULL,
  payload          text        NOT NULL,
  headers          jsonb       NOT NULL DEFAULT '{}',
  state            text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivering', 'delivered', 'dead')),
  attempts         integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  lease_token      text,
  last_status      integer,
  last_error       text,
  created_at       timestamptz NOT NULL,
  -- the retry horizon runs from here: queued, or replayed by an operator
  retry_since      timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  delivered_at     timestamptz,
  UNIQUE (partner, idempotency_key)
);
-- what a sender claims: due rows, soonest first
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state IN ('pending', 'delivering');
-- the ordering check: an earlier undelivered row for the same partner and referral
CREATE INDEX outbox_in_order ON outbox (partner, ordering_key, id) WHERE state <> 'delivered' AND ordering_key IS NOT NULL;
CREATE INDEX outbox_state ON outbox (state, id);

-- a referral's sender and the message that brought it, found by the referral (the triage outcome's address)
CREATE INDEX message_reference_target ON message_reference (type, id);
CREATE INDEX message_log_focus ON message_log (focus, seq) WHERE disposition = 'processed' AND focus IS NOT NULL;

INSERT INTO outbox (topic, partner, idempotency_key, ordering_key, content_type, payload, headers, next_attempt_at, created_at, retry_since, updated_at)
SELECT 'bars-async-response', m.destination, gen_random_uuid()::text, l.focus, 'application/fhir+json', m.content,
       CASE WHEN l.correlation_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('X-Correlation-ID', l.correlation_id) END,
       m.created_at, m.created_at, m.created_at, m.created_at
  FROM message_outbox m JOIN message_log l ON l.seq = m.message_seq
 WHERE m.status = 'queued' AND m.destination IS NOT NULL
 ORDER BY m.seq;
UPDATE message_outbox SET status = 'moved' WHERE status = 'queued' AND destination IS NOT NULL
`;

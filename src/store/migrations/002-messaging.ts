/**
 * FHIR messaging: every message received is logged once with the answer it got (`message_log`).
 * A processed message holds its identity keys under unique indexes, written in the same transaction
 * as the resources it carried, so a second copy, even one arriving at the same moment, waits for
 * the first and then finds it. `message_reference` maps the sender's references (fullUrls) to the
 * ids Stepwise assigned, for later update and cancel messages; `message_outbox` queues response
 * messages until outbound delivery exists.
 */
export const sql = `
CREATE TABLE message_log (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at    timestamptz NOT NULL,
  request_id     text,
  correlation_id text,
  bundle_id      text,
  source         text        NOT NULL DEFAULT '',
  event          text,
  reason         text,
  bars           boolean     NOT NULL DEFAULT false,
  -- processed: the message changed data; rejected: it failed; duplicate: a copy of a processed one
  disposition    text        NOT NULL,
  outcome        text        NOT NULL,
  status         integer     NOT NULL,
  focus          text,
  response       text        NOT NULL
);
-- BaRS: an X-Request-ID is processed once; FHIR messaging: a Bundle.id is processed once per sender
CREATE UNIQUE INDEX message_log_request_once ON message_log (request_id) WHERE disposition = 'processed' AND bars AND request_id IS NOT NULL;
CREATE UNIQUE INDEX message_log_bundle_once ON message_log (source, bundle_id) WHERE disposition = 'processed' AND bundle_id IS NOT NULL;
CREATE INDEX message_log_received ON message_log (received_at, seq);

CREATE TABLE message_reference (
  source     text NOT NULL,
  reference  text NOT NULL,
  type       text NOT NULL,
  id         text NOT NULL,
  PRIMARY KEY (source, reference)
);

CREATE TABLE message_outbox (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_at   timestamptz NOT NULL,
  message_seq  bigint      NOT NULL REFERENCES message_log (seq),
  destination  text,
  content      text        NOT NULL,
  status       text        NOT NULL DEFAULT 'queued',
  attempts     integer     NOT NULL DEFAULT 0
);
CREATE INDEX message_outbox_queued ON message_outbox (seq) WHERE status = 'queued';
`;

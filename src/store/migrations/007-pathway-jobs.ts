/**
 * Time-driven pathway work (src/pathway/scheduler): one row per job, named by a unique key that
 * says what the job is for (`cadence:CarePlan/x:weekly:3`), so scheduling the same work twice is a
 * no-op (INSERT … ON CONFLICT DO NOTHING). An instance claims a due job with
 * `SELECT … FOR UPDATE SKIP LOCKED` in the transaction that does the job's work and sets `done_at`:
 * several instances never run the same job, and a crash rolls the work and the claim back together.
 * `attempts` and `last_error` record failed runs; each failure moves `run_at` on (a back-off).
 */
export const sql = `
CREATE TABLE pathway_job (
  key         text PRIMARY KEY,
  kind        text NOT NULL,
  run_at      timestamptz NOT NULL,
  payload     jsonb NOT NULL,
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  done_at     timestamptz
);
-- the due jobs, in the order they are claimed
CREATE INDEX pathway_job_due ON pathway_job (run_at, key) WHERE done_at IS NULL
`;

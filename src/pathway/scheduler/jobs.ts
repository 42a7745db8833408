import type { ResourceStore } from '../../store/resource-store.js';
import type { PolicyContext } from '../write-policies.js';

/** A job to run at `runAt`: `kind` names its handler (kinds.ts), `key` what it is for, once. */
export interface JobSpec {
  kind: string;
  /** Unique: the same key is scheduled (and run) at most once, e.g. `cadence:CarePlan/x:weekly:3`. */
  key: string;
  runAt: Date;
  payload: Record<string, unknown>;
}

/**
 * Schedules a job in the caller's transaction (the store's connection): it exists if and only if
 * the write that scheduled it commits. Idempotent on `key` (ON CONFLICT DO NOTHING), so a policy
 * may schedule on every write. Returns whether this call added it.
 */
export async function scheduleJob(store: ResourceStore, job: JobSpec): Promise<boolean> {
  const rows = await store.queryable.query(
    `INSERT INTO pathway_job (key, kind, run_at, payload) VALUES ($1, $2, $3::timestamptz, $4::jsonb)
     ON CONFLICT (key) DO NOTHING RETURNING key`,
    [job.key, job.kind, job.runAt.toISOString(), JSON.stringify(job.payload)],
    { prepare: true },
  );
  return rows.length === 1;
}

/** The kind of the rows `once` writes: a record that something happened, never run. */
export const ONCE_KIND = 'once';

/**
 * Records, in the caller's transaction, that the work named `key` is done, and says whether this
 * call is the first to do it: the same unique key as a job, already done. Two transactions racing
 * on a key queue on its index entry; the second sees the first's row once it commits (and none if
 * it rolls back). Work guarded by `once` therefore happens exactly once, across instances.
 */
export async function once(store: ResourceStore, key: string, now: Date): Promise<boolean> {
  const rows = await store.queryable.query(
    `INSERT INTO pathway_job (key, kind, run_at, payload, done_at) VALUES ($1, '${ONCE_KIND}', $2::timestamptz, '{}'::jsonb, $2::timestamptz)
     ON CONFLICT (key) DO NOTHING RETURNING key`,
    [key, now.toISOString()],
    { prepare: true },
  );
  return rows.length === 1;
}

/** A job as an instance claimed it, in the transaction that runs it. */
export interface ClaimedJob {
  key: string;
  kind: string;
  runAt: Date;
  payload: Record<string, unknown>;
  /** Failed runs before this one. */
  attempts: number;
}

/**
 * The work of one kind of job, in the claiming transaction: its writes go through the pathway's
 * policies (`ctx.create`/`ctx.update`), and a throw rolls them back with the claim.
 */
export type JobHandler = (ctx: PolicyContext, job: ClaimedJob) => Promise<void>;
export type JobKinds = Readonly<Record<string, JobHandler>>;

import type { Logger } from '../../logger.js';
import type { Queryable } from '../../store/database.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { PATHWAY_POLICIES, serverWriteContext, type PolicyContext, type WritePolicy } from '../write-policies.js';
import type { ClaimedJob, JobKinds } from './jobs.js';
import { JOB_KINDS } from './kinds.js';

export interface RunOptions {
  /** The job kinds and their handlers (kinds.ts unless given). */
  kinds?: JobKinds;
  /** Most jobs one call runs, so that a backlog is worked through in bounded steps. */
  max?: number;
  logger?: Logger;
  /** The policies a job's writes pass: the configured ones the REST writes pass (PATHWAY_POLICIES unless given). */
  policies?: readonly WritePolicy[];
  /**
   * The context a job writes through, bound to its transaction: the server gives the write
   * pipeline's (policies and an AuditEvent per write); without it, the policies alone.
   */
  context?: (tx: ResourceStore, now: Date) => PolicyContext;
}

export interface RunSummary {
  done: string[];
  failed: { key: string; error: string }[];
}

const DEFAULT_MAX = 200;

/**
 * Runs the jobs due at `now`, one transaction per job: claim it (FOR UPDATE SKIP LOCKED, so other
 * instances pass over it), do its work, mark it done, commit. A job whose handler throws rolls back
 * with its work and is run again after a back-off (attempts and error recorded); another instance
 * crashing mid-job releases its claim with its connection. So each job's Tasks are created exactly
 * once, whatever the number of instances.
 */
export async function runDueJobs(store: ResourceStore, now: Date = store.clock.now(), opts: RunOptions = {}): Promise<RunSummary> {
  const kinds = opts.kinds ?? JOB_KINDS;
  const summary: RunSummary = { done: [], failed: [] };
  for (let n = 0; n < (opts.max ?? DEFAULT_MAX); n++) {
    const outcome = await runOneJob(store, now, kinds, opts.context ?? ((tx, at) => serverWriteContext(tx, opts.policies ?? PATHWAY_POLICIES, at)));
    if (!outcome) break;
    if (outcome.error === undefined) summary.done.push(outcome.key);
    else {
      summary.failed.push({ key: outcome.key, error: outcome.error });
      opts.logger?.warn({ job: outcome.key, err: outcome.error }, 'pathway job failed; it runs again later');
    }
  }
  return summary;
}

async function runOneJob(store: ResourceStore, now: Date, kinds: JobKinds, context: (tx: ResourceStore, now: Date) => PolicyContext): Promise<{ key: string; error?: string } | undefined> {
  let claimed: ClaimedJob | undefined;
  try {
    return await store.transaction(async (tx) => {
      claimed = await claimDueJob(tx.queryable, now);
      if (!claimed) return undefined;
      const handler = kinds[claimed.kind];
      if (!handler) throw new Error(`no handler for job kind '${claimed.kind}'`);
      await handler(context(tx, now), claimed);
      await tx.queryable.query('UPDATE pathway_job SET done_at = $2::timestamptz WHERE key = $1', [claimed.key, now.toISOString()], { prepare: true });
      return { key: claimed.key };
    });
  } catch (err) {
    // no claim: the database itself failed, which the caller (the poll loop) reports
    if (!claimed) throw err;
    const error = err instanceof Error ? err.message : String(err);
    await recordFailure(store.queryable, claimed.key, now, error);
    return { key: claimed.key, error };
  }
}

/** The next due job no other transaction holds, locked until this transaction ends. */
async function claimDueJob(q: Queryable, now: Date): Promise<ClaimedJob | undefined> {
  const [row] = await q.query<{ key: string; kind: string; run_at: Date | string; payload: Record<string, unknown>; attempts: number }>(
    `SELECT key, kind, run_at, payload, attempts FROM pathway_job
      WHERE done_at IS NULL AND run_at <= $1::timestamptz
      ORDER BY run_at, key LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [now.toISOString()],
    { prepare: true },
  );
  return row && { key: row.key, kind: row.kind, runAt: new Date(row.run_at), payload: row.payload, attempts: row.attempts };
}

/**
 * After a failed run (rolled back): counted, its error kept, and due again after 30 s, doubling
 * with each failure up to an hour. A job another instance has since done is left as it is.
 */
async function recordFailure(q: Queryable, key: string, now: Date, error: string): Promise<void> {
  await q.query(
    `UPDATE pathway_job SET attempts = attempts + 1, last_error = $2,
            run_at = $3::timestamptz + least(interval '30 seconds' * power(2, attempts), interval '1 hour')
      WHERE key = $1 AND done_at IS NULL`,
    [key, error.slice(0, 2000), now.toISOString()],
  );
}

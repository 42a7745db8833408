import pg from 'pg';
import { createHash } from 'node:crypto';
import { isRetryable, MAX_TRANSACTION_ATTEMPTS, poolExhausted, translateDatabaseError, type Database, type PoolStats, type Queryable, type QueryOptions } from './database.js';

export interface PostgresOptions {
  connectionString: string;
  poolSize?: number;
  /** Run every connection with this search_path: tests use a schema of their own. */
  schema?: string;
  /** DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL cancels any statement that runs longer (0: never). */
  statementTimeoutMs?: number;
  /** DATABASE_ACQUIRE_TIMEOUT_MS: how long a query waits for a pooled connection before 503 (0: for ever). */
  acquireTimeoutMs?: number;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 5_000;

/** pg-pool's error when no connection came within connectionTimeoutMillis (pg-pool/index.js). */
const isAcquireTimeout = (err: unknown): boolean => err instanceof Error && /^timeout exceeded when trying to connect$|^Connection terminated due to connection timeout$/.test(err.message);

/** PostgreSQL through a `pg` connection pool. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly statementTimeoutMs: number;

  constructor(opts: PostgresOptions) {
    this.statementTimeoutMs = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.poolSize ?? 20,
      // one request must not starve the others: a query that finds no free connection in time is
      // a 503, and every statement has a time limit, so no connection is held for ever (issue 13)
      connectionTimeoutMillis: opts.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS,
      // Search statements are short and end in LIMIT: parallel workers run ahead of the limit and
      // turn a 0.5 ms queue page into 20 ms, so this server's sessions plan without them.
      options: ['-c max_parallel_workers_per_gather=0', `-c statement_timeout=${this.statementTimeoutMs}`, opts.schema ? `-c search_path=${opts.schema}` : ''].join(' ').trim(),
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
  }

  async query<T>(sql: string, params: unknown[] = [], opts?: QueryOptions): Promise<T[]> {
    try {
      const res = await this.pool.query(statement(sql, params, opts));
      return res.rows as T[];
    } catch (err) {
      throw isAcquireTimeout(err) ? poolExhausted(err) : this.translate(err);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect().catch((err: unknown) => {
        throw isAcquireTimeout(err) ? poolExhausted(err) : err;
      });
      const tx: Queryable = {
        query: async <R>(sql: string, params: unknown[] = [], opts?: QueryOptions) => {
          try {
            return (await client.query(statement(sql, params, opts))).rows as R[];
          } catch (err) {
            throw this.translate(err);
          }
        },
      };
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (attempt < MAX_TRANSACTION_ATTEMPTS && isRetryable(err)) continue;
        throw err;
      } finally {
        client.release();
      }
    }
  }

  private translate(err: unknown): unknown {
    return translateDatabaseError(err, { statementTimeoutMs: this.statementTimeoutMs });
  }

  poolStats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

const names = new Map<string, string>();

/** A named (prepared) statement when asked for: the name is a digest of the text. */
function statement(text: string, values: unknown[], opts?: QueryOptions): pg.QueryConfig {
  if (!opts?.prepare) return { text, values };
  let name = names.get(text);
  if (!name) {
    name = `s_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size < 10_000) names.set(text, name);
  }
  return { name, text, values };
}

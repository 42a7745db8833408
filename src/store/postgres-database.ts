import pg from 'pg';
import { createHash } from 'node:crypto';
import { isRetryable, MAX_TRANSACTION_ATTEMPTS, type Database, type PoolStats, type Queryable, type QueryOptions } from './database.js';

export interface PostgresOptions {
  connectionString: string;
  poolSize?: number;
  /** Run every connection with this search_path: tests use a schema of their own. */
  schema?: string;
}

/** PostgreSQL through a `pg` connection pool. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(opts: PostgresOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.poolSize ?? 20,
      // Search statements are short and end in LIMIT: parallel workers run ahead of the limit and
      // turn a 0.5 ms queue page into 20 ms, so this server's sessions plan without them.
      options: ['-c max_parallel_workers_per_gather=0', opts.schema ? `-c search_path=${opts.schema}` : ''].join(' ').trim(),
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
  }

  async query<T>(sql: string, params: unknown[] = [], opts?: QueryOptions): Promise<T[]> {
    const res = await this.pool.query(statement(sql, params, opts));
    return res.rows as T[];
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      const tx: Queryable = {
        query: async <R>(sql: string, params: unknown[] = [], opts?: QueryOptions) => (await client.query(statement(sql, params, opts))).rows as R[],
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

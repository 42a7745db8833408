import { FhirError, FhirErrorCode } from '../errors.js';

/**
 * The SQL connection Stepwise needs: plain queries and transactions. PostgreSQL (`pg`) and the
 * embedded PGlite speak the same SQL, so everything above this interface is written once.
 */
export interface QueryOptions {
  /**
   * A statement run again and again with the same text (the write path): PostgreSQL keeps it
   * parsed and planned per connection. Never set it for SQL whose text varies without bound.
   */
  prepare?: boolean;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], opts?: QueryOptions): Promise<T[]>;
}

/** Connections of a pool, for /metrics: the embedded database has one and no pool. */
export interface PoolStats {
  total: number;
  idle?: number;
  waiting?: number;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  poolStats?(): PoolStats;
  /**
   * Runs `fn` in one transaction (READ COMMITTED). Every statement inside must go through the
   * `tx` handle. Serialization failures and deadlocks are retried a few times, so `fn` must be
   * safe to run again from the start.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PostgreSQL error codes after which a whole transaction may simply be run again. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; message?: string } | undefined;
  if (e?.code !== '23505') return false;
  return !constraint || e.constraint === constraint || (e.message ?? '').includes(constraint);
}

export const MAX_TRANSACTION_ATTEMPTS = 5;

/**
 * What a client is told when the database stops a statement or cannot give a connection. Both are
 * 503, never a hang and never a 500 (nothing in the server is broken):
 * - SQLSTATE 57014 (query_canceled) after `statement_timeout`: the request needed more database
 *   time than any request gets. The server cannot tell a costly query from a busy database, so it
 *   is not the client's fault for certain (4xx); `too-costly` says what to change (narrow it).
 * - no pooled connection within the acquire timeout: every connection is busy; `transient`, try
 *   again (app.ts adds Retry-After to every 503).
 */
export function translateDatabaseError(err: unknown, limits: { statementTimeoutMs?: number }): unknown {
  if ((err as { code?: unknown } | undefined)?.code === '57014') {
    return new FhirError(FhirErrorCode.UNAVAILABLE, { code: 'too-costly', message: `The request needed more than ${limits.statementTimeoutMs ?? 'the allowed'} ms of database time and was stopped; narrow it (fewer or more selective criteria, a smaller _count) and try again` }, { cause: err });
  }
  return err;
}

export function poolExhausted(cause: unknown): FhirError {
  return new FhirError(FhirErrorCode.UNAVAILABLE, { code: 'transient', message: 'Every database connection is busy; try again shortly' }, { cause });
}

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Database, PoolStats, Queryable } from './database.js';

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, in-process. One connection, so
 * transactions run one at a time (PGlite queues them), which also makes every advisory lock
 * trivially held.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;

  private constructor(private readonly db: PGlite) {}

  /** `dataDir` undefined keeps the database in memory (tests). */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir);
    return new PgliteDatabase(db);
  }

  /** A new in-memory database holding what `dump` (from `dump()`) held: far quicker than initdb. */
  static async restore(dump: Blob): Promise<PgliteDatabase> {
    return new PgliteDatabase(await PGlite.create({ loadDataDir: dump }));
  }

  /** The whole database as a tarball, for `restore`. */
  async dump(): Promise<Blob> {
    return this.db.dumpDataDir('none');
  }

  /** Whether `dataDir` already holds a database (PostgreSQL's PG_VERSION marks one). */
  static holdsDatabase(dataDir: string): boolean {
    return existsSync(join(dataDir, 'PG_VERSION'));
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query<T>(sql, params)).rows;
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) => fn({ query: async <R>(sql: string, params: unknown[] = []) => (await t.query<R>(sql, params)).rows }));
  }

  /** Writes every change to the data files, so that a copy of them holds every commit. */
  async checkpoint(): Promise<void> {
    await this.db.query('CHECKPOINT');
  }

  poolStats(): PoolStats {
    return { total: 1 };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

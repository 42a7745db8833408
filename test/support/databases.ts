import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrate.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';
import { PostgresDatabase } from '../../src/store/postgres-database.js';

/** The PostgreSQL the suite runs against; CI provides it at this address (see .ci/run). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  db: Database;
  /** Drops everything the test created. */
  dispose(): Promise<void>;
}

export async function pgliteTestDatabase(): Promise<TestDatabase> {
  return pgliteFromTemplate('migrated', migrate);
}

/** Per test worker: a database prepared once, as a dump, by name. */
const templates = new Map<string, Promise<Blob>>();

/**
 * A fresh in-memory PGlite database holding what `prepare` writes into an empty one. The first
 * call for a name prepares a database and keeps its dump; later calls restore the dump, which
 * takes a fraction of PGlite's initdb, the cost that dominated tests that open a database each.
 */
export async function pgliteFromTemplate(name: string, prepare: (db: Database) => Promise<unknown>): Promise<TestDatabase> {
  let template = templates.get(name);
  if (!template) {
    template = (async () => {
      const fresh = await PgliteDatabase.open();
      await prepare(fresh);
      const dump = await fresh.dump();
      await fresh.close();
      return dump;
    })();
    templates.set(name, template);
  }
  const db = await PgliteDatabase.restore(await template);
  return { db, dispose: () => db.close() };
}

/** A fresh schema of its own in the test PostgreSQL database, dropped afterwards. */
export async function postgresTestDatabase(poolSize = 10): Promise<TestDatabase> {
  const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const db = new PostgresDatabase({ connectionString: TEST_DATABASE_URL, schema, poolSize });
  await migrate(db);
  return {
    db,
    dispose: async () => {
      await db.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

export const databaseFactories: [string, () => Promise<TestDatabase>][] = [
  ['PGlite', pgliteTestDatabase],
  ['PostgreSQL', postgresTestDatabase],
];

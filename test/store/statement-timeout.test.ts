import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirError } from '../../src/errors.js';
import { migrate } from '../../src/store/migrate.js';
import { PostgresDatabase, type PostgresOptions } from '../../src/store/postgres-database.js';
import { startTestApp } from '../support/app.js';
import { TEST_DATABASE_URL } from '../support/databases.js';

/**
 * Issue 13: on PostgreSQL, 25 chained levels ran for 2 min 19 s, and twenty such requests took
 * every pooled connection, so /readyz and ordinary searches timed out. Now every statement has a
 * time limit and every wait for a connection too, each answered 503, and /readyz answers in time.
 */
const schema = `t_timeout_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const opened: PostgresDatabase[] = [];
const open = (opts: Omit<PostgresOptions, 'connectionString' | 'schema'>) => {
  const db = new PostgresDatabase({ connectionString: TEST_DATABASE_URL, schema, ...opts });
  opened.push(db);
  return db;
};

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  // migrations run without the statement timeout, however small it is
  await migrate(open({ statementTimeoutMs: 1 }));
});

afterAll(async () => {
  await Promise.all(opened.map((db) => db.close()));
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
});

async function refusal(work: Promise<unknown>): Promise<{ status: number; code: string; ms: number }> {
  const started = Date.now();
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof FhirError)) throw new Error(`expected a FhirError, got ${String(err)}`);
  return { status: err.status, code: err.issues[0].code, ms: Date.now() - started };
}

/** Holds a lock on the resource table from another session until `release` is called. */
async function lockResources(): Promise<() => Promise<void>> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
  await c.connect();
  await c.query('BEGIN');
  await c.query('LOCK TABLE resource IN ACCESS EXCLUSIVE MODE');
  return async () => {
    await c.query('ROLLBACK');
    await c.end();
  };
}

describe('PostgreSQL statement timeout', () => {
  it('stops a statement past the timeout: 503 too-costly, in a query and in a transaction', async () => {
    const db = open({ statementTimeoutMs: 100 });
    const alone = await refusal(db.query('SELECT pg_sleep(5)'));
    expect(alone).toMatchObject({ status: 503, code: 'too-costly' });
    expect(alone.ms).toBeLessThan(2000);
    const inTx = await refusal(db.transaction((tx) => tx.query('SELECT pg_sleep(5)')));
    expect(inTx).toMatchObject({ status: 503, code: 'too-costly' });
    // the connection is usable after the cancelled statement
    expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('answers a search that waits past the timeout with 503 and Retry-After, not a hang', async () => {
    const db = open({ statementTimeoutMs: 200 });
    const t = await startTestApp(async () => ({ db, dispose: async () => undefined }));
    const release = await lockResources();
    try {
      const started = Date.now();
      const res = await t.fhir('GET', 'Patient?name=x');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const oo = (await res.json()) as { issue: { code: string }[] };
      expect(oo.issue[0].code).toBe('too-costly');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await release();
    }
    expect((await t.fhir('GET', 'Patient?name=x')).status).toBe(200);
  });
});

describe('PostgreSQL pool', () => {
  it('answers 503 transient when no connection is free within the acquire timeout', async () => {
    const db = open({ poolSize: 1, acquireTimeoutMs: 200 });
    let finish!: () => void;
    const held = db.transaction(() => new Promise<void>((resolve) => (finish = resolve)));
    try {
      const queued = await refusal(db.query('SELECT 1'));
      expect(queued).toMatchObject({ status: 503, code: 'transient' });
      expect(queued.ms).toBeLessThan(2000);
      expect(await refusal(db.transaction((tx) => tx.query('SELECT 1')))).toMatchObject({ status: 503 });
    } finally {
      finish();
      await held;
    }
  });

  it('keeps /readyz answering in time while every connection is held', async () => {
    const db = open({ poolSize: 1, acquireTimeoutMs: 0 });
    const t = await startTestApp(async () => ({ db, dispose: async () => undefined }));
    let finish!: () => void;
    const held = db.transaction(() => new Promise<void>((resolve) => (finish = resolve)));
    try {
      const started = Date.now();
      const res = await t.app.request('/readyz');
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      finish();
      await held;
    }
    expect((await t.app.request('/readyz')).status).toBe(200);
  });
});

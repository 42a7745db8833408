import type { Database, Queryable } from './database.js';
import * as m001 from './migrations/001-resources.js';
import * as m002 from './migrations/002-messaging.js';
import * as m003 from './migrations/003-search-statistics.js';
import * as m004 from './migrations/004-identity-claims.js';
import * as m005 from './migrations/005-fast-keys.js';
import * as m006 from './migrations/006-sender-versions.js';
import * as m007 from './migrations/007-pathway-jobs.js';
import * as m008 from './migrations/008-queue-keyset.js';
import * as m009 from './migrations/009-auth-jti.js';
import * as m010 from './migrations/010-audit-log.js';
import * as m011 from './migrations/011-audit-append-only.js';
import * as m012 from './migrations/012-compartments.js';
import * as m013 from './migrations/013-outbox.js';
import * as m014 from './migrations/014-conformance-stamp.js';
import * as m018 from './migrations/018-deleted-compartments.js';
import * as m021 from './migrations/021-task-facts.js';
import * as m022 from './migrations/022-definition-stamp.js';
import * as m023 from './migrations/023-library-stamp.js';
import * as m024 from './migrations/024-guide-stamp.js';

/** Versioned migrations, applied in order, each once, in its own transaction. Append only. */
export const migrations: { version: number; name: string; sql: string; /** Statements that depend on the server, worked out when the migration runs. */ more?: (tx: Queryable) => Promise<string[]> }[] = [
  { version: 1, name: 'resources and search index', sql: m001.sql },
  { version: 2, name: 'messaging log, references and outbox', sql: m002.sql },
  { version: 3, name: 'multi-column statistics for the search index', sql: m003.sql },
  { version: 4, name: 'national identities claimed by messages', sql: m004.sql },
  { version: 5, name: 'byte-order index keys and LZ4 compression', sql: m005.sql, more: m005.lz4 },
  { version: 6, name: "the sender's version of each resource it sent", sql: m006.sql },
  { version: 7, name: 'pathway jobs: time-driven work claimed with SKIP LOCKED', sql: m007.sql },
  { version: 8, name: 'task queues walked by priority then due time', sql: m008.sql },
  { version: 9, name: 'client assertion ids seen, against replay', sql: m009.sql },
  { version: 10, name: 'the audit trail in a table of its own', sql: m010.sql },
  { version: 11, name: 'the audit trail refuses UPDATE, DELETE and TRUNCATE', sql: m011.sql, more: m011.more },
  { version: 12, name: 'team compartments: compartment keys and caseloads', sql: m012.sql },
  { version: 13, name: 'the outbox: messages to partners, delivered by src/delivery', sql: m013.sql },
  { version: 14, name: 'a stamp moved by every write of a conformance resource', sql: m014.sql, more: m014.more },
  { version: 18, name: 'compartment keys for resources deleted before migration 12, and for Provenances', sql: m018.sql, more: m018.more },
  { version: 21, name: 'the facts of pathway Tasks the measures count', sql: m021.sql },
  { version: 22, name: 'Questionnaires and Measures move the conformance stamp', sql: m022.sql },
  { version: 23, name: 'Libraries move the conformance stamp', sql: m023.sql },
  { version: 24, name: 'ImplementationGuides move the conformance stamp', sql: m024.sql },
];

/** Arbitrary constant: several instances starting at once take turns to migrate. */
const MIGRATION_LOCK_KEY = 748_213_001;

/** Applies the migrations not applied yet (`list`: all of them; a test may stop short of the newest). */
export async function migrate(db: Database, list: readonly (typeof migrations)[number][] = migrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    // a backfill over a large database (or waiting for another instance's) may take minutes: the
    // statement timeout that bounds requests does not apply here
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migration (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migration')).map((r) => r.version));
    const applied: number[] = [];
    for (const m of list) {
      if (done.has(m.version)) continue;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      for (const statement of (await m.more?.(tx)) ?? []) await tx.query(statement);
      await tx.query('INSERT INTO schema_migration (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

/**
 * Our migrations hold no functions or string literals with semicolons, so after dropping `--`
 * comments a plain split is exact.
 */
function splitStatements(sql: string): string[] {
  return sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

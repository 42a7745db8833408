import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { cacheKey, packageVersion, type DiskCache } from '../disk-cache.js';
import { migrate, migrations } from './migrate.js';
import { PgliteDatabase } from './pglite-database.js';

const TEMPLATE = 'pglite-migrated';

export interface EmbeddedDatabase {
  db: PgliteDatabase;
  /** How the data directory got its database this time: it had one, or from the cached template, or initdb. */
  origin: 'existing' | 'template' | 'initdb';
  migrationsApplied: number[];
  /** Settles when a template made on this start is in the cache (or could not be written). */
  templateSaved: Promise<boolean>;
}

/**
 * The embedded database in `dataDir`, migrated. PGlite's initdb takes seconds in WebAssembly, so
 * the first new data directory's database, once migrated, is kept in the cache as a template, and
 * later new data directories start as a copy of it (under a second). The template is named by the
 * PGlite version and the migrations, so either changing makes a new one. A database made from the
 * template differs from one made by initdb only in when its migrations are recorded as applied.
 */
export async function openEmbeddedDatabase(dataDir: string, cache: DiskCache): Promise<EmbeddedDatabase> {
  if (PgliteDatabase.holdsDatabase(dataDir)) {
    const db = await PgliteDatabase.open(dataDir);
    return { db, origin: 'existing', migrationsApplied: await migrate(db), templateSaved: Promise.resolve(false) };
  }
  const key = templateKey();
  // PGlite unpacks the gzipped tar itself
  const template = cache.read(TEMPLATE, key);
  const db = await PgliteDatabase.open(dataDir, { template });
  const migrationsApplied = await migrate(db);
  if (template) return { db, origin: 'template', migrationsApplied, templateSaved: Promise.resolve(false) };
  const snapshot = await db.snapshot();
  // compressed off the main thread, so serving is not held up (40 MB of mostly empty pages -> 5 MB)
  const templateSaved = promisify(gzip)(snapshot).then(
    (gz) => cache.write(TEMPLATE, key, gz),
    () => false,
  );
  return { db, origin: 'initdb', migrationsApplied, templateSaved };
}

function templateKey(): string {
  return cacheKey(packageVersion('@electric-sql/pglite'), migrations.map((m) => [m.version, m.name, m.sql, String(m.more ?? '')]));
}

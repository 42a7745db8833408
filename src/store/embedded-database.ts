import { copyFileSync, cpSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cacheKey, packageVersion, type DiskCache } from '../disk-cache.js';
import { migrate, migrations } from './migrate.js';
import { PgliteDatabase } from './pglite-database.js';

const TEMPLATE = 'pglite-migrated';

export interface EmbeddedDatabase {
  db: PgliteDatabase;
  /** How the data directory got its database this time: it had one, or a copy of the cached template, or initdb. */
  origin: 'existing' | 'template' | 'initdb';
  migrationsApplied: number[];
  /** Whether this start put a template in the cache. */
  templateSaved: boolean;
}

/**
 * The embedded database in `dataDir`, migrated. PGlite's initdb takes seconds in WebAssembly, so
 * the first new data directory's database, once migrated, is copied into the cache as a template,
 * and later new data directories start as a copy of it (a fraction of a second). The template is
 * named by the PGlite version and the migrations, so changing either makes a new one. A database
 * made from the template differs from one made by initdb only in when its migrations are recorded
 * as applied.
 */
export async function openEmbeddedDatabase(dataDir: string, cache: DiskCache): Promise<EmbeddedDatabase> {
  if (PgliteDatabase.holdsDatabase(dataDir)) {
    const db = await PgliteDatabase.open(dataDir);
    return { db, origin: 'existing', migrationsApplied: await migrate(db), templateSaved: false };
  }
  const key = templateKey();
  const template = cache.directory(TEMPLATE, key);
  if (template) copyDatabase(template, dataDir);
  const db = await PgliteDatabase.open(dataDir);
  const migrationsApplied = await migrate(db);
  if (template) return { db, origin: 'template', migrationsApplied, templateSaved: false };
  // after a checkpoint the files hold every commit; nothing else runs while they are copied
  await db.checkpoint();
  const templateSaved = cache.writeDirectory(TEMPLATE, key, (path) => copyDatabase(dataDir, path));
  return { db, origin: 'initdb', migrationsApplied, templateSaved };
}

function templateKey(): string {
  return cacheKey('a copy of the data directory', packageVersion('@electric-sql/pglite'), migrations.map((m) => [m.version, m.name, m.sql, String(m.more ?? '')]));
}

/**
 * Copies a data directory whose database is not running or is checkpointed and idle. PG_VERSION
 * marks a directory that holds a database, so it is copied last: an interrupted copy is not taken
 * for one. The lock file of the running server stays behind.
 */
function copyDatabase(from: string, to: string): void {
  const versionFile = join(from, 'PG_VERSION');
  cpSync(from, to, { recursive: true, filter: (src) => src !== versionFile && basename(src) !== 'postmaster.pid' });
  copyFileSync(versionFile, join(to, 'PG_VERSION'));
}

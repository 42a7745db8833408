import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskCache } from '../../src/disk-cache.js';
import { openEmbeddedDatabase } from '../../src/store/embedded-database.js';
import { migrations } from '../../src/store/migrate.js';

describe('the embedded database in a data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'stepwise-embedded-'));
  const cache = new DiskCache(join(root, 'cache'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const versions = async (db: { query: <T>(sql: string) => Promise<T[]> }) =>
    (await db.query<{ version: number }>('SELECT version FROM schema_migration ORDER BY version')).map((r) => r.version);

  it('is made by initdb the first time, which leaves a migrated template in the cache', async () => {
    const first = await openEmbeddedDatabase(join(root, 'a'), cache);
    try {
      expect(first.origin).toBe('initdb');
      expect(first.migrationsApplied).toEqual(migrations.map((m) => m.version));
      await first.db.query(`INSERT INTO message_reference (source, reference, type, id) VALUES ('a', 'b', 'Patient', 'c')`);
      expect(first.templateSaved).toBe(true);
      expect(readdirSync(join(root, 'cache'))).toEqual([expect.stringMatching(/^pglite-migrated-/)]);
    } finally {
      await first.db.close();
    }
  });

  it('in a new directory starts from the template: migrated, and without the data of the first', async () => {
    mkdirSync(join(root, 'b')); // as a volume mounted for it is: there, and empty
    const second = await openEmbeddedDatabase(join(root, 'b'), cache);
    try {
      expect(second.origin).toBe('template');
      expect(second.migrationsApplied).toEqual([]);
      expect(await versions(second.db)).toEqual(migrations.map((m) => m.version));
      expect(await second.db.query('SELECT * FROM message_reference')).toEqual([]);
    } finally {
      await second.db.close();
    }
  });

  it('that holds a database is opened as it is', async () => {
    const again = await openEmbeddedDatabase(join(root, 'a'), cache);
    try {
      expect(again.origin).toBe('existing');
      expect(await again.db.query('SELECT id FROM message_reference')).toEqual([{ id: 'c' }]);
    } finally {
      await again.db.close();
    }
  });
});

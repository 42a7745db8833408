import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { migrate, migrations } from '../../src/store/migrate.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { patient } from '../support/builders.js';
import { postgresTestDatabase } from '../support/databases.js';

describe('migrations', () => {
  it('apply once, in order, and are idempotent on PostgreSQL even when instances start together', async () => {
    const t = await postgresTestDatabase(); // already migrated once
    const again = await Promise.all([migrate(t.db), migrate(t.db), migrate(t.db)]);
    expect(again).toEqual([[], [], []]);
    const rows = await t.db.query<{ version: number }>('SELECT version FROM schema_migration ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    await t.dispose();
  });

  it('keep the embedded database on disk: data survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-pglite-'));
    try {
      const first = await PgliteDatabase.open(dir);
      expect(await migrate(first)).toEqual(migrations.map((m) => m.version));
      const created = await new ResourceStore(first, systemClock).create(patient());
      await first.close();
      const second = await PgliteDatabase.open(dir);
      expect(await migrate(second)).toEqual([]);
      expect((await new ResourceStore(second, systemClock).read('Patient', created.id!)).id).toBe(created.id);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { compartmentOf } from '../../src/security/compartments.js';
import type { Principal } from '../../src/security/principal.js';
import { parseScopes } from '../../src/security/scopes.js';
import { migrate, migrations } from '../../src/store/migrate.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';
import { ResourceStore } from '../../src/store/resource-store.js';

/**
 * Migration 18: a resource deleted before migration 12 had no compartment keys (12 read them from
 * the search index, which a deletion empties), so its history was hidden from every team. The
 * migration gives it the keys of its last version with content.
 */
describe('compartment keys of resources deleted before migration 12', () => {
  it("restores a deleted Observation's patient key and a deleted Task's holders, so the caring team reads their history again", async () => {
    const db = await PgliteDatabase.open();
    try {
      await migrate(db);
      const store = new ResourceStore(db, new FixedClock(new Date('2026-03-02T09:00:00Z')));
      const data = [
        { resourceType: 'Organization', id: 'cmht', identifier: [{ system: PATHWAY.teamId, value: 'cmht' }] },
        { resourceType: 'Patient', id: 'pa' },
        { resourceType: 'Observation', id: 'obs', status: 'final', code: { text: 'mood' }, subject: { reference: 'Patient/pa' } },
        { resourceType: 'Task', id: 'open', status: 'requested', intent: 'order', for: { reference: 'Patient/pa' }, owner: { reference: 'Organization/cmht' } },
        { resourceType: 'Task', id: 'gone', status: 'requested', intent: 'order', for: { reference: 'Patient/pa' }, owner: { reference: 'Organization/cmht' } },
        { resourceType: 'Provenance', id: 'prov', target: [{ reference: 'Task/open/_history/1' }], recorded: '2026-03-02T09:00:00Z', agent: [{ who: { display: 'rule' } }] },
      ] as Resource[];
      for (const r of data) await store.update(r);
      await store.delete('Observation', 'obs');
      await store.delete('Task', 'gone');
      // as a deletion before migration 12 left them, and before this migration ran
      await db.query("UPDATE resource SET compartments = '{}' WHERE id IN ('obs', 'gone', 'prov')");
      await db.query('DELETE FROM schema_migration WHERE version = 18');

      const nurse: Principal = { kind: 'user', clientId: 'web', user: 'n1', teams: ['cmht'], scopes: parseScopes('user/*.rs'), scope: 'user/*.rs' };
      const asNurse = new ResourceStore(db, store.clock, db, false, compartmentOf(nurse));
      const versions = async (type: string, id: string) => (await asNurse.history({ type, id, count: 10 })).entries.length;
      expect(await versions('Observation', 'obs')).toBe(0);

      expect(await migrate(db, migrations)).toEqual([18]);
      const keys = await db.query<{ id: string; compartments: string[] }>("SELECT id, compartments FROM resource WHERE id IN ('obs', 'gone') ORDER BY id");
      expect(keys).toEqual([
        { id: 'gone', compartments: expect.arrayContaining(['Patient/pa', 'Organization/cmht']) },
        { id: 'obs', compartments: ['Patient/pa'] },
      ]);
      expect(await versions('Observation', 'obs')).toBe(2);
      // a Provenance keeps its targets, and is read with them
      expect((await db.query<{ compartments: string[] }>("SELECT compartments FROM resource WHERE id = 'prov'"))[0].compartments).toEqual(['Task/open']);
      expect((await asNurse.read('Provenance', 'prov')).id).toBe('prov');
    } finally {
      await db.close();
    }
  });
});

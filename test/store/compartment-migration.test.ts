import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { migrate } from '../../src/store/migrate.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';
import { ResourceStore } from '../../src/store/resource-store.js';

const team = (id: string) => [{ url: PATHWAY.taskTeam, valueReference: { reference: `Organization/${id}` } }];

const DATA = [
  { resourceType: 'Patient', id: 'p1', link: [{ other: { reference: 'Patient/p0' }, type: 'seealso' }] },
  { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'mood' }, subject: { reference: 'Patient/p1' }, performer: [{ reference: 'Practitioner/x' }] },
  { resourceType: 'Task', id: 't-open', status: 'requested', intent: 'order', for: { reference: 'Patient/p1' }, owner: { reference: 'Practitioner/nurse' }, extension: team('cmht') },
  { resourceType: 'Task', id: 't-done', status: 'completed', intent: 'order', for: { reference: 'Patient/p2' }, owner: { reference: 'Organization/crisis-team' }, extension: team('crisis-team') },
  { resourceType: 'CareTeam', id: 'ct-active', status: 'active', subject: { reference: 'Patient/p2' }, participant: [{ member: { reference: 'Organization/cmht' } }, { member: { reference: 'Practitioner/lead' } }] },
  { resourceType: 'CareTeam', id: 'ct-nostatus', subject: { reference: 'Patient/p3' }, participant: [{ member: { reference: 'Organization/crisis-team' } }] },
  { resourceType: 'CareTeam', id: 'ct-inactive', status: 'inactive', subject: { reference: 'Patient/p3' }, participant: [{ member: { reference: 'Organization/front-door-team' } }] },
  { resourceType: 'Organization', id: 'cmht', name: 'CMHT' },
] as Resource[];

/** Migration 12 fills resource.compartments and caseload for what was stored before it, exactly as writing does. */
describe('the compartments migration', () => {
  it('derives the same compartment keys and caseload rows from stored index rows as the write path', async () => {
    const db = await PgliteDatabase.open();
    try {
      await migrate(db);
      const store = new ResourceStore(db, new FixedClock(new Date('2026-03-02T09:00:00Z')));
      for (const r of DATA) await store.update(r);
      const snapshot = async () => ({
        keys: await db.query("SELECT type || '/' || id AS ref, compartments FROM resource ORDER BY type, id"),
        caseload: await db.query('SELECT r.id, c.team, c.patient FROM caseload c JOIN resource r ON r.rid = c.rid ORDER BY 1, 2, 3'),
      });
      const written = await snapshot();
      expect(written.caseload).toEqual([
        { id: 'ct-active', team: 'Organization/cmht', patient: 'Patient/p2' },
        { id: 'ct-nostatus', team: 'Organization/crisis-team', patient: 'Patient/p3' },
        { id: 't-open', team: 'Organization/cmht', patient: 'Patient/p1' },
      ]);
      expect(written.keys).toContainEqual({ ref: 'Patient/p1', compartments: expect.toSatisfy((k: string[]) => [...k].sort().join() === 'Patient/p0,Patient/p1') });
      expect(written.keys).toContainEqual({ ref: 'Task/t-open', compartments: expect.arrayContaining(['Patient/p1', 'Organization/cmht', 'Practitioner/nurse']) });
      expect(written.keys).toContainEqual({ ref: 'Organization/cmht', compartments: [] });

      await db.query('DROP TABLE caseload');
      await db.query("UPDATE resource SET compartments = '{}'");
      await db.query('DELETE FROM schema_migration WHERE version = 12');
      expect(await migrate(db)).toEqual([12]);
      const migrated = await snapshot();
      const sorted = (rows: unknown[]) => (rows as { ref: string; compartments: string[] }[]).map((r) => ({ ...r, compartments: [...r.compartments].sort() }));
      expect(sorted(migrated.keys)).toEqual(sorted(written.keys));
      expect(migrated.caseload).toEqual(written.caseload);
    } finally {
      await db.close();
    }
  });
});

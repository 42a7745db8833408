import type { AuditEvent } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { auditEvent } from '../../src/audit/audit-event.js';
import { FixedClock } from '../../src/clock.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { migrate, migrations } from '../../src/store/migrate.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';
import { ResourceStore } from '../../src/store/resource-store.js';

/** Migration 10 moves the AuditEvents earlier versions stored as resources into the audit trail, searchable as before. */
describe('the audit trail migration', () => {
  it('moves stored AuditEvents, with their patient, requesting agent and entities, and leaves no resource or index row behind', async () => {
    const db = await PgliteDatabase.open();
    try {
      await migrate(db, migrations.filter((m) => m.version < 10));
      const event = auditEvent({
        interaction: 'operation',
        action: 'E',
        recorded: new Date('2026-03-02T09:00:00Z'),
        status: 200,
        requestor: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A81001' }, name: 'GP practice' },
        observer: 'http://stepwise.test/fhir',
        focus: [{ reference: 'ServiceRequest/sr-1' }],
        patient: { reference: 'Patient/pat-1' },
      });
      const rid = await db.query<{ rid: string }>(
        "INSERT INTO resource (type, id, version_id, last_updated, content) VALUES ('AuditEvent', 'old-1', 1, '2026-03-02T09:00:00Z', $1) RETURNING rid::text AS rid",
        [JSON.stringify({ ...event, id: 'old-1' })],
      );
      await db.query("INSERT INTO resource_version (rid, version_id, type, id, last_updated, method, content) VALUES ($1, 1, 'AuditEvent', 'old-1', '2026-03-02T09:00:00Z', 'POST', '{}')", [rid[0].rid]);
      await db.query("INSERT INTO sp_token (rid, type, param, system, code) VALUES ($1, 'AuditEvent', 'action', NULL, 'E')", [rid[0].rid]);

      expect(await migrate(db)).toEqual(migrations.filter((m) => m.version >= 10).map((m) => m.version));
      expect(await db.query("SELECT 1 FROM resource WHERE type = 'AuditEvent' UNION ALL SELECT 1 FROM resource_version WHERE type = 'AuditEvent' UNION ALL SELECT 1 FROM sp_token WHERE type = 'AuditEvent'")).toEqual([]);
      const store = new ResourceStore(db, new FixedClock(new Date('2026-03-03T09:00:00Z')));
      const found = (q: [string, string][]) => store.search(parseSearch('AuditEvent', q)).then((p) => p.matches.map((r) => r.id));
      expect(await found([['patient', 'Patient/pat-1']])).toEqual(['old-1']);
      expect(await found([['entity', 'ServiceRequest/sr-1']])).toEqual(['old-1']);
      expect(await found([['agent:identifier', 'https://fhir.nhs.uk/Id/ods-organization-code|A81001']])).toEqual(['old-1']);
      expect(await found([['date', 'ge2026-03-02'], ['subtype', 'operation'], ['outcome', '0']])).toEqual(['old-1']);
      expect(((await store.read('AuditEvent', 'old-1')) as AuditEvent).recorded).toBe('2026-03-02T09:00:00.000Z');
    } finally {
      await db.close();
    }
  });
});

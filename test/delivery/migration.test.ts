import { describe, expect, it } from 'vitest';
import { listOutbox } from '../../src/delivery/outbox.js';
import { migrate, migrations } from '../../src/store/migrate.js';
import { PgliteDatabase } from '../../src/store/pglite-database.js';

describe('migration 13: the outbox', () => {
  it("moves the async answers message_outbox queued into the outbox, keeping message_outbox's rows as history", async () => {
    const db = await PgliteDatabase.open();
    try {
      await migrate(db, migrations.filter((m) => m.version < 13));
      await db.query(`INSERT INTO message_log (received_at, request_id, correlation_id, bundle_id, source, bars, disposition, outcome, status, focus, response)
        VALUES ('2026-03-01T10:00:00Z', 'r1', 'c1', 'b1', 'https://fhir.nhs.uk/Id/dos-service-id|2000099999', true, 'processed', 'ok', 202, 'ServiceRequest/sr1', '{}')`);
      await db.query(`INSERT INTO message_outbox (created_at, message_seq, destination, content) VALUES
        ('2026-03-01T10:00:01Z', 1, 'https://fhir.nhs.uk/Id/dos-service-id|2000099999', '{"resourceType":"Bundle"}'),
        ('2026-03-01T10:00:02Z', 1, NULL, '{"resourceType":"Bundle","id":"nowhere"}')`);
      await migrate(db);
      const rows = await listOutbox(db, {}, true);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        topic: 'bars-async-response',
        partner: 'https://fhir.nhs.uk/Id/dos-service-id|2000099999',
        orderingKey: 'ServiceRequest/sr1',
        payload: '{"resourceType":"Bundle"}',
        headers: { 'X-Correlation-ID': 'c1' },
        state: 'pending',
        nextAttemptAt: '2026-03-01T10:00:01.000Z',
      });
      expect(rows[0].idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
      const old = await db.query<{ status: string }>('SELECT status FROM message_outbox ORDER BY seq');
      // a row with no destination cannot be routed: it stays queued there, as it was
      expect(old.map((r) => r.status)).toEqual(['moved', 'queued']);
    } finally {
      await db.close();
    }
  });
});

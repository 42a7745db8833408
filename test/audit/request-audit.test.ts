import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, startTestApp, type TestApp } from '../support/app.js';

/** The AuditEvents recorded since `mark` (read in SQL: a search of the trail would be audited itself). */
async function since(t: TestApp, mark: number): Promise<AuditEvent[]> {
  const rows = await t.t.db.query<{ content: string }>('SELECT content FROM audit_event WHERE seq > $1 ORDER BY seq', [mark]);
  return rows.map((r) => JSON.parse(r.content) as AuditEvent);
}
async function mark(t: TestApp): Promise<number> {
  return Number((await t.t.db.query<{ n: string }>('SELECT coalesce(max(seq), 0)::text AS n FROM audit_event'))[0].n);
}
async function patientColumn(t: TestApp, id: string): Promise<string | null> {
  return (await t.t.db.query<{ patient: string | null }>('SELECT patient FROM audit_event WHERE id = $1', [id]))[0].patient;
}
const role = (a: AuditEvent, code: string) => a.entity?.find((e) => e.role?.code === code);
const summary = (a: AuditEvent) => [a.subtype?.[0]?.code, a.action, a.outcome];

describe('an AuditEvent for every request (IHE BALP)', () => {
  let t: TestApp;
  let patientId: string;
  beforeAll(async () => {
    t = await startTestApp();
    patientId = ((await (await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Audited' }] })).json()) as { id: string }).id;
  });
  afterAll(() => t.close());

  it('a read leaves one AuditEvent: read, R, success, the resource and its patient', async () => {
    const obs = (await (await t.fhir('POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'mood' }, subject: { reference: `Patient/${patientId}` } })).json()) as { id: string };
    const at = await mark(t);
    expect((await t.fhir('GET', `Observation/${obs.id}`)).status).toBe(200);
    const [audit, ...more] = await since(t, at);
    expect(more).toEqual([]);
    expect(summary(audit)).toEqual(['read', 'R', '0']);
    expect(role(audit, '4')?.what?.reference).toBe(`Observation/${obs.id}`);
    expect(role(audit, '1')?.what?.reference).toBe(`Patient/${patientId}`);
    expect(await patientColumn(t, audit.id!)).toBe(`Patient/${patientId}`);
    expect(audit.agent.find((a) => a.requestor)?.who?.display).toMatch(/development/);
  });

  it('a search leaves one AuditEvent with its query in base64 (role 24) and the patient it names', async () => {
    const at = await mark(t);
    expect((await t.fhir('GET', `Observation?subject=Patient/${patientId}&code=mood`)).status).toBe(200);
    const [audit, ...more] = await since(t, at);
    expect(more).toEqual([]);
    expect(summary(audit)).toEqual(['search-type', 'E', '0']);
    const query = role(audit, '24')!;
    expect(Buffer.from(query.query!, 'base64').toString('utf8')).toBe(`subject=Patient%2F${patientId}&code=mood`);
    expect(await patientColumn(t, audit.id!)).toBe(`Patient/${patientId}`);
    // and the auditor finds it by patient
    const found = (await (await t.fhir('GET', `AuditEvent?patient=Patient/${patientId}&subtype=search-type`)).json()) as Bundle;
    expect(found.entry?.map((e) => e.resource!.id)).toContain(audit.id);
  });

  it('a read of nothing is audited as a minor failure (4), with what went wrong', async () => {
    const at = await mark(t);
    expect((await t.fhir('GET', 'Patient/nobody-here')).status).toBe(404);
    const [audit, ...more] = await since(t, at);
    expect(more).toEqual([]);
    expect(summary(audit)).toEqual(['read', 'R', '4']);
    expect(audit.outcomeDesc).toMatch(/nobody-here/);
  });

  it('a write keeps its one AuditEvent (made in its statement), never two', async () => {
    const at = await mark(t);
    expect((await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Once' }] })).status).toBe(201);
    expect((await since(t, at)).map(summary)).toEqual([['create', 'C', '0']]);
  });

  it('a refused write (422) leaves one AuditEvent with outcome 4, and nothing else', async () => {
    const resources = async () => Number((await t.t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM resource_version'))[0].n);
    const [at, before] = [await mark(t), await resources()];
    expect((await t.fhir('POST', 'Patient', { resourceType: 'Patient', gender: 'sometimes' })).status).toBe(422);
    const [audit, ...more] = await since(t, at);
    expect(more).toEqual([]);
    expect(summary(audit)).toEqual(['create', 'C', '4']);
    expect(await resources()).toBe(before);
  });

  it('the CapabilityStatement is audited too: one AuditEvent, capabilities, R, naming no patient', async () => {
    const at = await mark(t);
    expect((await t.fhir('GET', 'metadata')).status).toBe(200);
    const [audit, ...more] = await since(t, at);
    expect(more).toEqual([]);
    expect(summary(audit)).toEqual(['capabilities', 'R', '0']);
    expect(role(audit, '1')).toBeUndefined();
  });

  it('a request refused for its Host (421) is audited, without writing that Host into the record', async () => {
    const at = await mark(t);
    const res = await t.app.request('http://evil.example/fhir/Patient', { method: 'GET' });
    expect(res.status).toBe(421);
    const [audit, ...more] = await since(t, at);
    expect(more).toEqual([]);
    expect(audit.outcome).toBe('4');
    expect(JSON.stringify(audit)).not.toContain('evil.example/fhir');
    expect(audit.source.observer?.display ?? JSON.stringify(audit.source)).not.toContain('evil.example');
  });

  it('a CORS preflight or any other method the API does not serve is audited as well', async () => {
    const at = await mark(t);
    const res = await t.app.request('http://stepwise.test/fhir/Patient', { method: 'OPTIONS' });
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(await since(t, at)).toHaveLength(1);
  });

  it('audits each entry of a batch: reads, searches, writes and refusals, and not the envelope', async () => {
    const batch: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: `Patient/${patientId}` } },
        { request: { method: 'GET', url: `Observation?patient=${patientId}` } },
        { resource: { resourceType: 'Patient', name: [{ family: 'Batched' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 'sometimes' } as never, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/not-there' } },
      ],
    };
    const at = await mark(t);
    expect((await t.fhir('POST', '', batch)).status).toBe(200);
    const audits = await since(t, at);
    // the write's own first (it is in its statement), then the others as the batch ends
    expect(audits.map(summary).sort()).toEqual(
      [
        ['read', 'R', '0'],
        ['search-type', 'E', '0'],
        ['create', 'C', '0'],
        ['create', 'C', '4'],
        ['read', 'R', '4'],
      ].sort(),
    );
    const search = audits.find((a) => a.subtype?.[0].code === 'search-type')!;
    expect(role(search, '1')?.what?.reference).toBe(`Patient/${patientId}`);
    expect(audits.find((a) => a.outcome === '4' && a.action === 'C')!.entity!.find((e) => e.name)?.name).toMatch(/Bundle\.entry\[3\]/);
  });

  it('a transaction audits its entries when it commits, and leaves one AuditEvent of its failure when it does not', async () => {
    const entries = (extra: Bundle['entry']): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Patient', name: [{ family: 'InTx' }] }, request: { method: 'POST', url: 'Patient' } }, { request: { method: 'GET', url: `Patient/${patientId}` } }, ...(extra ?? [])],
    });
    let at = await mark(t);
    expect((await t.fhir('POST', '', entries([]))).status).toBe(200);
    expect((await since(t, at)).map(summary).sort()).toEqual([['create', 'C', '0'], ['read', 'R', '0']].sort());

    at = await mark(t);
    const failing = entries([{ resource: { resourceType: 'Patient', gender: 'sometimes' } as never, request: { method: 'POST', url: 'Patient' } }]);
    expect((await t.fhir('POST', '', failing)).status).toBe(422);
    const [audit, ...more] = await since(t, at);
    expect(more).toEqual([]);
    expect(summary(audit)).toEqual(['transaction', 'E', '4']);
  });

  it('records the network address the request came from', async () => {
    const server = await listen(t.app);
    try {
      const at = await mark(t);
      expect((await fetch(`${server.url}/fhir/Patient/${patientId}`, { headers: { Connection: 'close' } })).status).toBe(200);
      const [audit] = await since(t, at);
      expect(audit.agent.find((a) => a.requestor)?.network).toEqual({ address: '127.0.0.1', type: '2' });
    } finally {
      await server.close();
    }
  });
});

describe('the audit trail is append-only, in the database too', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Kept' }] });
  });
  afterAll(() => t.close());

  it('refuses UPDATE, DELETE and TRUNCATE of audit_event, whoever runs them', async () => {
    const [row] = await t.t.db.query<{ id: string; content: string }>('SELECT id, content FROM audit_event LIMIT 1');
    await expect(t.t.db.query("UPDATE audit_event SET outcome = '0' WHERE id = $1", [row.id])).rejects.toThrow(/append-only/);
    await expect(t.t.db.query('DELETE FROM audit_event WHERE id = $1', [row.id])).rejects.toThrow(/append-only/);
    await expect(t.t.db.query('TRUNCATE audit_event')).rejects.toThrow(/append-only/);
    expect((await t.t.db.query<{ content: string }>('SELECT content FROM audit_event WHERE id = $1', [row.id]))[0].content).toBe(row.content);
  });
});


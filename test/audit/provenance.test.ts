import type { Bundle, Provenance, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverValidator } from '../../src/fhir/server-validator.js';
import { PATHWAY, TaskCode } from '../../src/pathway/codes.js';
import { WritePipeline } from '../../src/pipeline/write-pipeline.js';
import { startTestApp, type TestApp } from '../support/app.js';

const contactTask = (extra: Partial<Task> = {}): Task => ({
  resourceType: 'Task',
  status: 'requested',
  intent: 'order',
  code: { coding: [{ system: PATHWAY.taskCode, code: TaskCode.contact }] },
  for: { reference: 'Patient/prov-patient' },
  ...extra,
});

/** A Provenance on every write to the pathway's resources (R4 provenance.html), in the write's transaction. */
describe('Provenance of pathway writes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await t.fhir('PUT', 'Patient/prov-patient', { resourceType: 'Patient', id: 'prov-patient' });
  });
  afterAll(() => t.close());

  const provenancesOf = async (ref: string): Promise<Provenance[]> => {
    const rows = await t.t.db.query<{ content: string }>("SELECT content FROM resource WHERE type = 'Provenance' AND content LIKE $1", [`%"${ref}/_history/%`]);
    return rows.map((r) => JSON.parse(r.content) as Provenance).sort((a, b) => a.target[0].reference!.localeCompare(b.target[0].reference!));
  };
  const operation = (p: Provenance) => p.activity?.coding?.find((c) => c.system === 'http://terminology.hl7.org/CodeSystem/v3-DataOperation')?.code;

  it('records who created, updated (with the reason) and deleted a pathway Task, version by version', async () => {
    const created = (await (await t.fhir('POST', 'Task', contactTask())).json()) as Task;
    const ref = `Task/${created.id}`;
    const cancelled = { ...created, status: 'cancelled' as const, statusReason: { text: 'the person moved away' } };
    expect((await t.fhir('PUT', ref, cancelled)).status).toBe(200);
    expect((await t.fhir('DELETE', ref)).status).toBe(200);
    const provenances = await provenancesOf(ref);
    expect(provenances.map((p) => [p.target[0].reference, operation(p)])).toEqual([
      [`${ref}/_history/1`, 'CREATE'],
      [`${ref}/_history/2`, 'UPDATE'],
      [`${ref}/_history/3`, 'DELETE'],
    ]);
    expect(provenances[1].reason).toEqual([{ text: 'the person moved away' }]);
    expect(provenances[0].agent[0].who?.display).toMatch(/development client/);
  });

  it('gives a Task that is not the pathway’s no Provenance, and a Provenance neither its own Provenance nor an AuditEvent', async () => {
    const other = (await (await t.fhir('POST', 'Task', { resourceType: 'Task', status: 'requested', intent: 'order' })).json()) as Task;
    expect(await provenancesOf(`Task/${other.id}`)).toEqual([]);
    const created = (await (await t.fhir('POST', 'Task', contactTask())).json()) as Task;
    const [provenance] = await provenancesOf(`Task/${created.id}`);
    expect(await provenancesOf(`Provenance/${provenance.id}`)).toEqual([]);
    const audits = (await (await t.fhir('GET', `AuditEvent?entity=Provenance/${provenance.id}`)).json()) as Bundle;
    expect(audits.entry ?? []).toEqual([]);
  });

  it('is undone with the write: a refused update leaves no Provenance', async () => {
    const created = (await (await t.fhir('POST', 'Task', contactTask())).json()) as Task;
    // requested → failed is not a move the state machine allows
    expect((await t.fhir('PUT', `Task/${created.id}`, { ...created, status: 'failed' })).status).toBe(409);
    expect((await provenancesOf(`Task/${created.id}`)).map(operation)).toEqual(['CREATE']);
  });

  it('names the pathway operation and the requestor the write came with', async () => {
    const pipeline = new WritePipeline({ validator: serverValidator() });
    const origin = { route: 'rest' as const, baseUrl: 'http://stepwise.test/fhir', requestor: { identifier: { system: 'https://idp.test', value: 'nurse-7' }, name: 'nurse-7' }, activity: 'reject' };
    const created = (await (await t.fhir('POST', 'Task', contactTask())).json()) as Task;
    await pipeline.update(t.store, { ...created, status: 'rejected', statusReason: { text: 'not ours' } }, origin);
    const [, rejected] = await provenancesOf(`Task/${created.id}`);
    expect(rejected.activity?.text).toBe('$reject');
    expect(rejected.agent[0].who).toEqual({ identifier: { system: 'https://idp.test', value: 'nurse-7' }, display: 'nurse-7' });
    expect(rejected.reason).toEqual([{ text: 'not ours' }]);
  });
});

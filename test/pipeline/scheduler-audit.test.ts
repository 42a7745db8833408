import type { AuditEvent, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { serverValidator } from '../../src/fhir/server-validator.js';
import { CareActivity } from '../../src/pathway/care/codes.js';
import { runDueJobs } from '../../src/pathway/scheduler/run.js';
import { WritePipeline } from '../../src/pipeline/write-pipeline.js';
import { pathwayStore, type PathwayTestStore } from '../pathway/support.js';
import { personInCare, tasksCoded } from '../pathway/scheduler-support.js';

/** The scheduler is one more route into the write pipeline: its Tasks pass the policies and leave an AuditEvent. */
describe("the scheduler's writes go through the pipeline", () => {
  let p: PathwayTestStore;
  beforeAll(async () => {
    p = await pathwayStore();
  });
  afterAll(() => p.t.dispose());

  it('records each Task a job creates with an AuditEvent naming the scheduler as its route', async () => {
    await personInCare(p.store, 'audit', { cadences: [[CareActivity.weeklyWellbeingContact, 1, 1, 'wk']] });
    const pipeline = new WritePipeline({ validator: serverValidator() });
    const origin = { route: 'scheduler' as const, baseUrl: 'http://stepwise.test/fhir', requestor: { name: 'Stepwise scheduler' } };
    p.clock.advance(8 * 24 * 3_600_000);
    const run = await runDueJobs(p.store, p.clock.now(), { context: (tx, now) => pipeline.context(tx, origin, now) });
    expect(run.failed).toEqual([]);
    const [contact] = (await tasksCoded(p.store, 'contact')) as Task[];
    expect(contact).toBeDefined();
    const audits = (await p.store.search(parseSearch('AuditEvent', [['entity', `Task/${contact.id}/_history/1`]]))).matches as AuditEvent[];
    expect(audits).toHaveLength(1);
    expect(audits[0].agent[0].who?.display).toBe('Stepwise scheduler');
    expect(audits[0].entity!.flatMap((e) => e.detail ?? [])).toContainEqual({ type: 'route', valueString: 'scheduler' });
  });
});

import type { OperationOutcome, Task, TaskOutput } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHWAY } from '../../src/pathway/codes.js';
import { admitReferral } from '../../src/pathway/front-door.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { upsertAll } from '../../src/store/seed.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { completeContext, indicator } from './builders.js';

const out = (code: string, value: Partial<TaskOutput>): TaskOutput => ({ type: { coding: [{ system: PATHWAY.redirectOutput, code }] }, ...value }) as TaskOutput;
const RATIONALE = out('rationale', { valueString: 'Primary need is debt advice; no mental health need identified at triage' });
const SIGNPOST = out('signposted-to', { valueReference: { display: 'Citizens Advice Leeds' } });
const ROUTES = out('escalation-routes-given', { valueBoolean: true });

/** The pathway rules run on the generic REST write path, not only when called directly. */
describe('pathway rules on PUT and PATCH', () => {
  let t: TestApp;
  let task: Task;

  beforeAll(async () => {
    t = await startTestApp();
    await seedPathwayData(t.store);
    const ctx = completeContext({ referral: { reasonCode: [indicator('out-of-scope')] } });
    await upsertAll(t.store, [ctx.patient!, ctx.requester!, ...ctx.related, ctx.referral]);
    task = (await admitReferral(t.store, { serviceRequestId: 'sr-1' }, { clock: t.clock })).task;
  });
  afterAll(() => t.close());

  it('refuses to complete a redirect over PUT without its three parts, naming what is missing (422)', async () => {
    const redirect: Task = { ...task, status: 'completed', businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'redirected' }] }, output: [...(task.output ?? []), RATIONALE] };
    const res = await t.fhir('PUT', `Task/${task.id}`, redirect);
    expect(res.status).toBe(422);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue.map((i) => i.diagnostics)).toEqual([expect.stringContaining('signposted-to'), expect.stringContaining('escalation-routes-given')]);
    expect(((await (await t.fhir('GET', `Task/${task.id}`)).json()) as Task).status).toBe(task.status);
  });

  it('completes it with all three parts and stamps the time to triage', async () => {
    t.clock.advance(45 * 60_000);
    const current = (await (await t.fhir('GET', `Task/${task.id}`)).json()) as Task;
    const patch = [
      { op: 'replace', path: '/status', value: 'completed' },
      { op: 'replace', path: '/businessStatus', value: { coding: [{ system: PATHWAY.triageStatus, code: 'redirected' }] } },
      { op: 'add', path: '/output', value: [...(current.output ?? []), RATIONALE, SIGNPOST, ROUTES] },
    ];
    const res = await t.fhir('PATCH', `Task/${task.id}`, JSON.stringify(patch), { 'Content-Type': 'application/json-patch+json', 'If-Match': `W/"${current.meta?.versionId}"` });
    expect(res.status).toBe(200);
    const done = (await res.json()) as Task;
    expect(done.executionPeriod?.end).toBe(t.clock.now().toISOString());
    expect(done.extension?.find((e) => e.url === PATHWAY.timeToTriage)?.valueDuration?.value).toBeGreaterThanOrEqual(45);
  });
});

import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRONT_DOOR_TEAM_ID } from '../../src/pathway/codes.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { patient, task } from '../support/builders.js';

/** One sample's value from Prometheus text output, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let t: TestApp;
  let other: TestApp;
  const scrape = async (app: TestApp = t) => {
    const res = await app.app.request('http://stepwise.test/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  beforeAll(async () => {
    // two apps in one process: each has a registry of its own
    t = await startTestApp();
    other = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
    await other?.close();
  });

  it('counts requests by FHIR interaction, resource type and status class', async () => {
    const created = 'stepwise_http_requests_total{interaction="create",resource_type="Patient",status_class="2xx"}';
    const before = sample(await scrape(), created) ?? 0;
    expect((await t.fhir('POST', 'Patient', patient())).status).toBe(201);
    const after = await scrape();
    expect(sample(after, created)).toBe(before + 1);
    expect(sample(after, 'stepwise_http_request_duration_seconds_count{interaction="create",resource_type="Patient",status_class="2xx"}')).toBe(before + 1);
    expect(sample(await scrape(other), created)).toBeUndefined();
  });

  it('labels reads, searches, errors, batches and transactions, and never a raw path or id', async () => {
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as { id: string };
    await t.fhir('GET', `Patient/${p.id}`);
    await t.fhir('GET', 'Patient/no-such-id');
    await t.fhir('GET', 'Patient?family=Smith');
    await t.fhir('GET', 'NotAType/123');
    await t.fhir('GET', 'metadata');
    const bundle = (type: 'batch' | 'transaction'): Bundle => ({ resourceType: 'Bundle', type, entry: [{ resource: patient(), request: { method: 'POST', url: 'Patient' } }] });
    expect((await t.fhir('POST', '', bundle('batch'))).status).toBe(200);
    expect((await t.fhir('POST', '', bundle('transaction'))).status).toBe(200);
    const text = await scrape();
    for (const series of [
      'interaction="read",resource_type="Patient",status_class="2xx"',
      'interaction="read",resource_type="Patient",status_class="4xx"',
      'interaction="search-type",resource_type="Patient",status_class="2xx"',
      'interaction="read",resource_type="other",status_class="4xx"',
      'interaction="capabilities",resource_type="",status_class="2xx"',
      'interaction="batch",resource_type="",status_class="2xx"',
      'interaction="transaction",resource_type="",status_class="2xx"',
    ]) {
      expect(sample(text, `stepwise_http_requests_total{${series}}`), series).toBeGreaterThanOrEqual(1);
    }
    expect(text).not.toContain(p.id);
    expect(text).not.toContain('NotAType');
  });

  it('shows the database pool, the open Tasks of each pathway team and the outbox backlog', async () => {
    const owner = { reference: `Organization/${FRONT_DOOR_TEAM_ID}` };
    const before = sample(await scrape(), `stepwise_open_tasks{owner="${FRONT_DOOR_TEAM_ID}"}`) ?? 0;
    expect((await t.fhir('POST', 'Task', task({ owner, status: 'requested' }))).status).toBe(201);
    expect((await t.fhir('POST', 'Task', task({ owner, status: 'completed' }))).status).toBe(201);
    const text = await scrape();
    expect(sample(text, `stepwise_open_tasks{owner="${FRONT_DOOR_TEAM_ID}"}`)).toBe(before + 1);
    expect(sample(text, 'stepwise_open_tasks{owner="cmht"}')).toBe(0);
    expect(sample(text, 'stepwise_db_pool_connections{state="total"}')).toBe(1);
    expect(sample(text, 'stepwise_outbox_queued_messages')).toBe(0);
  });

  it("includes Node's own process metrics", async () => {
    const text = await scrape();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });
});

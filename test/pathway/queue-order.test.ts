import type { Bundle, SearchParameter, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { task } from '../support/builders.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** The front-door queue: owner = front door, open statuses, most urgent first, then earliest due. */
describe('the triage queue order', () => {
  let t: TestApp;
  const due = (h: number) => ({ period: { end: new Date(Date.UTC(2026, 2, 2, 9 + h)).toISOString() } });
  const open: [string, Task['priority'], number][] = [
    ['routine-early', 'routine', 1],
    ['urgent-late', 'urgent', 20],
    ['stat-late', 'stat', 3],
    ['urgent-early', 'urgent', 2],
    ['stat-early', 'stat', 1],
    ['routine-late', 'routine', 30],
  ];

  beforeAll(async () => {
    t = await startTestApp();
    for (const [id, priority, h] of open) {
      await t.fhir('PUT', `Task/${id}`, task({ id, priority, status: 'requested', owner: { reference: 'Organization/front-door' }, restriction: due(h) }));
    }
    await t.fhir('PUT', 'Task/closed', task({ id: 'closed', priority: 'stat', status: 'completed', owner: { reference: 'Organization/front-door' }, restriction: due(0) }));
  });
  afterAll(() => t.close());

  it('sorts by priority rank, then due time', async () => {
    const res = await t.fhir('GET', 'Task?owner=Organization/front-door&status=requested,received,on-hold&_sort=priority-rank,due');
    const ids = ((await res.json()) as Bundle).entry!.map((e) => e.resource!.id);
    expect(ids).toEqual(['stat-early', 'stat-late', 'urgent-early', 'urgent-late', 'routine-early', 'routine-late']);
  });

  it('finds what is overdue by its due time', async () => {
    const res = await t.fhir('GET', 'Task?owner=Organization/front-door&status=requested&due=lt2026-03-02T11:30:00Z&_sort=due');
    expect(((await res.json()) as Bundle).entry!.map((e) => e.resource!.id)).toEqual(['routine-early', 'stat-early', 'urgent-early']);
  });

  it('publishes the parameters in the CapabilityStatement', async () => {
    const cs = (await (await t.fhir('GET', 'metadata')).json()) as { rest: { resource: { type: string; searchParam: SearchParameter[] }[] }[] };
    const names = cs.rest[0].resource.find((r) => r.type === 'Task')!.searchParam.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['due', 'priority-rank']));
  });
});

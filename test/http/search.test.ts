import type { Bundle, OperationOutcome, Patient, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, task } from '../support/builders.js';
import { BASE, startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let pat: Patient;
const created: Task[] = [];

beforeAll(async () => {
  t = await startTestApp();
  pat = (await (await t.fhir('POST', 'Patient', patient({ name: [{ family: 'Queue' }] }))).json()) as Patient;
  for (let i = 0; i < 7; i++) {
    t.clock.advance(1000);
    const res = await t.fhir('POST', 'Task', task({ for: { reference: `Patient/${pat.id}` }, owner: { reference: 'Organization/front-door' }, description: `task ${i}` }));
    created.push((await res.json()) as Task);
  }
});
afterAll(() => t.close());

const get = async (path: string, headers: Record<string, string> = {}) => (await (await t.fhir('GET', path, undefined, headers)).json()) as Bundle;

describe('search over HTTP', () => {
  it('returns a searchset with total, self link and match entries', async () => {
    const b = await get(`Task?owner=Organization/front-door&status=requested`);
    expect(b.type).toBe('searchset');
    expect(b.total).toBe(7);
    expect(b.link?.[0]).toEqual({ relation: 'self', url: `${BASE}/Task?owner=Organization%2Ffront-door&status=requested&_count=20` });
    expect(b.entry?.[0].search?.mode).toBe('match');
    expect(b.entry?.[0].fullUrl).toBe(`${BASE}/Task/${b.entry?.[0].resource?.id}`);
  });

  it('pages with next and previous links that the client can follow', async () => {
    const seen: string[] = [];
    let b = await get('Task?_sort=-_lastUpdated&_count=3');
    seen.push(...b.entry!.map((e) => e.resource!.id!));
    while (b.link?.find((l) => l.relation === 'next')) {
      const next = b.link.find((l) => l.relation === 'next')!.url!;
      b = await get(next.slice(BASE.length + 1));
      seen.push(...(b.entry ?? []).map((e) => e.resource!.id!));
    }
    expect(seen).toEqual(created.map((x) => x.id).reverse());
    const prev = b.link!.find((l) => l.relation === 'previous')!.url!;
    const back = await get(prev.slice(BASE.length + 1));
    expect(back.entry!.map((e) => e.resource!.id)).toEqual(seen.slice(3, 6));
  });

  it('accepts POST [type]/_search with a form body', async () => {
    const res = await t.fhir('POST', 'Task/_search', 'owner=Organization%2Ffront-door&_count=2&_total=accurate', { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(200);
    const b = (await res.json()) as Bundle;
    expect(b.total).toBe(7);
    expect(b.entry).toHaveLength(2);
  });

  it('ignores an unknown parameter by default, saying so, and refuses it with handling=strict', async () => {
    const lenient = await get('Task?colour=blue');
    expect(lenient.total).toBeGreaterThanOrEqual(7);
    expect(lenient.link![0].url).not.toContain('colour');
    const outcome = lenient.entry!.find((e) => e.search?.mode === 'outcome')!.resource as OperationOutcome;
    expect(outcome.issue).toEqual([expect.objectContaining({ severity: 'warning', code: 'not-supported', expression: ['colour'] })]);
    expect(lenient.entry!.filter((e) => e.search?.mode === 'match').every((e) => e.resource!.resourceType === 'Task')).toBe(true);
    expect((await get('Task?status=requested')).entry!.some((e) => e.search?.mode === 'outcome')).toBe(false);
    const res = await t.fhir('GET', 'Task?colour=blue', undefined, { Prefer: 'handling=strict' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue[0].expression).toEqual(['colour']);
  });

  it('reports bad values precisely', async () => {
    const res = await t.fhir('GET', 'Task?authored-on=last-tuesday');
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue[0].expression).toEqual(['authored-on']);
    expect((await t.fhir('GET', 'Task?_sort=colour')).status).toBe(400);
    expect((await t.fhir('GET', 'Task?_count=-1')).status).toBe(400);
    expect((await t.fhir('GET', 'Task?status:exact=requested')).status).toBe(400);
  });

  it('gives the total for free when every match is on the first page, and counts only on request otherwise', async () => {
    expect((await get('Task?_count=50')).total).toBe(7);
    expect((await get('Task?_count=3')).total).toBeUndefined();
    expect((await get('Task?_count=3&_total=accurate')).total).toBe(7);
  });

  it('supports _summary=count, _total=none, _elements and _include', async () => {
    const c = await get('Task?_summary=count');
    expect(c.total).toBe(7);
    expect(c.entry).toBeUndefined();
    expect((await get('Task?_total=none')).total).toBeUndefined();
    // Task.priority is not a summary element in R4; status and description are
    const summary = await get(`Task?_id=${created[0].id}&_summary=true`);
    expect(summary.entry![0].resource).not.toHaveProperty('priority');
    expect(summary.entry![0].resource).toHaveProperty('status');
    expect(summary.entry![0].resource).toHaveProperty('description');
    expect(summary.entry![0].resource!.meta?.tag?.map((x) => x.code)).toContain('SUBSETTED');
    const el = await get(`Task?_id=${created[0].id}&_elements=status`);
    expect(el.entry![0].resource).not.toHaveProperty('description');
    const inc = await get(`Task?_id=${created[0].id}&_include=Task:patient`);
    expect(inc.entry!.map((e) => [e.resource!.resourceType, e.search?.mode])).toEqual([
      ['Task', 'match'],
      ['Patient', 'include'],
    ]);
  });

  it('searches with a chain and with _has', async () => {
    expect((await get('Task?patient.family=queue')).total).toBe(7);
    expect((await get('Task?patient.family=other')).total).toBe(0);
    expect((await get('Patient?_has:Task:patient:owner=Organization/front-door')).entry!.map((e) => e.resource!.id)).toEqual([pat.id]);
  });
});

describe('the parameters of every resource (search.html#all)', () => {
  it('finds a Binary by _id and _lastUpdated, and refuses an unknown parameter on it when strict', async () => {
    const binary = async (text: string) =>
      (await (await t.fhir('POST', 'Binary', { resourceType: 'Binary', contentType: 'text/plain', data: Buffer.from(text).toString('base64') })).json()) as { id: string };
    t.clock.set(new Date('2026-04-01T00:00:00Z'));
    const first = await binary('first');
    t.clock.set(new Date('2026-05-01T00:00:00Z'));
    const second = await binary('second');
    const ids = async (qs: string) => (await get(`Binary?${qs}`)).entry?.filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id);
    expect(await ids(`_id=${first.id}`)).toEqual([first.id]);
    expect(await ids('_id=never-stored')).toBeUndefined();
    expect(await ids(`_lastUpdated=ge2026-04-15&_id=${first.id},${second.id}`)).toEqual([second.id]);
    const strict = await t.fhir('GET', 'Binary?colour=blue', undefined, { Prefer: 'handling=strict' });
    expect(strict.status).toBe(400);
    expect(((await strict.json()) as OperationOutcome).issue[0].expression).toEqual(['colour']);
  });
});

describe('history over HTTP', () => {
  it('returns instance, type and system history Bundles', async () => {
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as Patient;
    await t.fhir('PUT', `Patient/${p.id}`, { ...p, gender: 'male' });
    const inst = await get(`Patient/${p.id}/_history`);
    expect(inst.type).toBe('history');
    expect(inst.total).toBe(2);
    expect(inst.entry!.map((e) => [e.response?.etag, e.request?.method])).toEqual([
      ['W/"2"', 'PUT'],
      ['W/"1"', 'POST'],
    ]);
    expect((await get('Patient/_history?_count=1')).entry).toHaveLength(1);
    const sys = await get('_history?_count=2');
    expect(sys.link?.find((l) => l.relation === 'next')).toBeDefined();
  });

  it('filters by _since and refuses a bad _since', async () => {
    t.clock.set(new Date('2027-06-01T00:00:00Z'));
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as Patient;
    const since = await get('_history?_since=2027-05-31T00:00:00Z');
    expect(since.entry!.map((e) => e.resource?.id)).toEqual([p.id]);
    expect((await t.fhir('GET', '_history?_since=yesterday')).status).toBe(400);
    expect((await t.fhir('GET', 'Patient/never-existed/_history')).status).toBe(404);
  });
});

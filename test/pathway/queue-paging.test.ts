import type { Bundle, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { teamExtension } from '../../src/pathway/tasks/team.js';
import { queueWalkFor } from '../../src/store/task-queue.js';
import { BASE, startTestApp, type TestApp } from '../support/app.js';

const TEAM = { reference: 'Organization/team-q' };
const OPEN = 'requested,received,accepted,ready,in-progress,on-hold';
const PRIORITIES: (Task['priority'] | undefined)[] = ['routine', 'stat', undefined, 'urgent', 'asap'];
const RANK: Record<string, number> = { stat: 1, asap: 2, urgent: 3, routine: 4 };
const STATUSES: Task['status'][] = ['requested', 'on-hold', 'completed', 'received'];

interface Made {
  id: string;
  seq: number;
  priority?: Task['priority'];
  due?: number;
  status: Task['status'];
  owner: string;
}

/** Queue order: priority rank (none last), due time (none last), then creation order (rid). */
const byQueueOrder = (a: Made, b: Made) =>
  (RANK[a.priority ?? ''] ?? 99) - (RANK[b.priority ?? ''] ?? 99) || (a.due ?? Infinity) - (b.due ?? Infinity) || a.seq - b.seq;

/**
 * The work queues are walked from task_queue (store/task-queue.ts) in keyset pages. These tests
 * hold the walk to the order the generic search gives, with ties in priority and due time, Tasks
 * without either, and Tasks created while someone pages through the queue.
 */
describe('work queues: priority then due time, in keyset pages', () => {
  let t: TestApp;
  const made: Made[] = [];
  const hour = (h: number) => Date.UTC(2026, 2, 2, 9) + h * 3_600_000;

  async function make(priority: Task['priority'] | undefined, due: number | undefined, status: Task['status'], owner = 'Organization/team-q'): Promise<Made> {
    const m: Made = { id: `q${made.length}`, seq: made.length, priority, due, status, owner };
    made.push(m);
    const task: Task = {
      resourceType: 'Task',
      id: m.id,
      status,
      intent: 'order',
      ...(priority ? { priority } : {}),
      owner: { reference: owner },
      extension: [teamExtension(owner === 'Organization/other-team' ? { reference: owner } : TEAM)],
      ...(due !== undefined ? { restriction: { period: { end: new Date(due).toISOString() } } } : {}),
    };
    expect((await t.fhir('PUT', `Task/${m.id}`, task)).status).toBe(201);
    return m;
  }

  async function page(path: string): Promise<{ ids: string[]; next?: string; previous?: string }> {
    const res = await t.fhir('GET', path);
    expect(res.status, path).toBe(200);
    const b = (await res.json()) as Bundle;
    const link = (rel: string) => b.link?.find((l) => l.relation === rel)?.url?.slice(BASE.length + 1);
    return { ids: (b.entry ?? []).map((e) => e.resource!.id!), next: link('next'), previous: link('previous') };
  }

  async function walk(path: string): Promise<string[]> {
    const ids: string[] = [];
    for (let p: string | undefined = path; p; ) {
      const got = await page(p);
      ids.push(...got.ids);
      p = got.next;
    }
    return ids;
  }

  beforeAll(async () => {
    t = await startTestApp();
    // 60 Tasks: five priorities (one none), due times with many ties (and some none), four statuses
    for (let i = 0; i < 60; i++) {
      const due = i % 11 === 0 ? undefined : hour(i % 4);
      await make(PRIORITIES[i % PRIORITIES.length], due, STATUSES[i % STATUSES.length], i % 6 === 5 ? 'Practitioner/asha' : 'Organization/team-q');
    }
    await make('stat', hour(0), 'requested', 'Organization/other-team'); // another team's
  });
  afterAll(() => t.close());

  const expected = (keep: (m: Made) => boolean) => made.filter(keep).sort(byQueueOrder).map((m) => m.id);
  const isOpen = (m: Made) => OPEN.split(',').includes(m.status);
  const inTeam = (m: Made) => m.owner !== 'Organization/other-team';

  it('walks the per-team queue in order, page by page, each Task once', async () => {
    const ids = await walk(`Task?team=Organization/team-q&status=${OPEN}&_sort=priority-rank,due&_count=7`);
    expect(ids).toEqual(expected((m) => inTeam(m) && isOpen(m)));
  });

  it('gives the order the generic search gives', async () => {
    // without a holder the search is not walked from task_queue: the sub-select sort of any search
    const generic = await page(`Task?status=${OPEN}&_sort=priority-rank,due&_count=500`);
    const walked = await page(`Task?team=Organization/team-q&status=${OPEN}&_sort=priority-rank,due&_count=500`);
    expect(walked.ids).toEqual(generic.ids.filter((id) => id !== made[made.length - 1].id));
  });

  it('walks the per-person queue, and one status alone (on hold)', async () => {
    expect(await walk('Task?owner=Practitioner/asha&_sort=priority-rank,due&_count=3')).toEqual(expected((m) => m.owner === 'Practitioner/asha'));
    expect(await walk('Task?team=Organization/team-q&status=on-hold&_sort=priority-rank,due&_count=4')).toEqual(expected((m) => inTeam(m) && m.status === 'on-hold'));
  });

  it('walks the overdue queue: open, due before now', async () => {
    const now = hour(2);
    const ids = await walk(`Task?team=Organization/team-q&status=${OPEN}&due=lt${new Date(now).toISOString()}&_sort=priority-rank,due&_count=5`);
    expect(ids).toEqual(expected((m) => inTeam(m) && isOpen(m) && m.due !== undefined && m.due < now));
    expect(ids.length).toBeGreaterThan(5);
  });

  it('applies the other criteria to the walk', async () => {
    const ids = await walk(`Task?team=Organization/team-q&status=${OPEN}&priority=stat&_sort=priority-rank,due&_count=4`);
    expect(ids).toEqual(expected((m) => inTeam(m) && isOpen(m) && m.priority === 'stat'));
  });

  it('keeps its place while Tasks are created between pages, and goes back by the previous link', async () => {
    const q = `Task?team=Organization/team-q&status=requested&_sort=priority-rank,due&_count=5`;
    const before = expected((m) => inTeam(m) && m.status === 'requested');
    const first = await page(q);
    expect(first.ids).toEqual(before.slice(0, 5));
    // one that sorts before the page's end (never seen by this walk), one after (seen)
    await make('stat', hour(-5), 'requested');
    const late = await make(undefined, undefined, 'requested');
    const second = await page(first.next!);
    expect(second.ids).toEqual(before.slice(5, 10));
    expect((await page(second.previous!)).ids).toEqual(before.slice(0, 5));
    const rest = await walk(second.next!);
    expect([...first.ids, ...second.ids, ...rest]).toEqual([...before, late.id]);
  });

  it('walks the documented queues from task_queue, and leaves other searches to the generic one', () => {
    const walked = (q: string) => queueWalkFor(parseSearch('Task', [...new URLSearchParams(q)])) !== undefined;
    for (const holder of ['team=Organization/team-q', 'owner=Practitioner/asha']) {
      expect(walked(`${holder}&status=${OPEN}&_sort=priority-rank,due`)).toBe(true);
      expect(walked(`${holder}&status=${OPEN}&due=lt2026-03-02T09:00:00Z&_sort=priority-rank,due`)).toBe(true);
      expect(walked(`${holder}&status=requested,received&_sort=priority-rank,due`)).toBe(true);
      expect(walked(`${holder}&status=on-hold&_sort=priority-rank,due`)).toBe(true);
    }
    expect(walked(`status=${OPEN}&_sort=priority-rank,due`)).toBe(false);
    expect(walked('team=Organization/team-q&_sort=-priority-rank,due')).toBe(false);
    expect(walked('team=Organization/team-q&status:not=completed&_sort=priority-rank,due')).toBe(false);
  });

  it('refuses a cursor it did not give', async () => {
    const res = await t.fhir('GET', `Task?team=Organization/team-q&_sort=priority-rank,due&_cursor=bm90LWEtY3Vyc29y`);
    expect(res.status).toBe(400);
  });
});

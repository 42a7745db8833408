import type { Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { CONTACT_OUTCOME } from '../../src/pathway/outreach/outcome.js';
import { migrate, migrations } from '../../src/store/migrate.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { pgliteTestDatabase, type TestDatabase } from '../support/databases.js';

/**
 * task_fact (migration 21, store/task-fact.ts): the row the measures read for each pathway Task,
 * written and deleted with its index rows; `status_since` is when the current status was entered.
 * The migration's backfill gives the same rows as the write path.
 */
let t: TestDatabase;
let store: ResourceStore;
let clock: FixedClock;
beforeEach(async () => {
  t = await pgliteTestDatabase();
  clock = new FixedClock(new Date('2026-03-02T09:00:00Z'));
  store = new ResourceStore(t.db, clock);
});
afterEach(() => t.dispose());

const escalation = (id: string, extra: Partial<Task> = {}): Task => ({
  resourceType: 'Task',
  id,
  status: 'requested',
  intent: 'order',
  priority: 'asap',
  code: { coding: [{ system: PATHWAY.taskCode, code: 'escalation' }] },
  for: { reference: 'Patient/p1' },
  owner: { reference: 'PractitionerRole/dr-rao' },
  extension: [{ url: PATHWAY.taskTeam, valueReference: { reference: 'Organization/cmht' } }],
  authoredOn: '2026-03-02T09:00:00Z',
  restriction: { period: { end: '2026-03-02T13:00:00Z' } },
  partOf: [{ reference: 'Task/parent' }],
  ...extra,
});

const facts = () => t.db.query<Record<string, unknown>>(
  `SELECT id, code, status, priority, business_status, team, owner_type, owner_id, patient, part_of, outcome, authored, due, ended, status_since, created FROM task_fact ORDER BY id`,
);
const at = async (iso: string, task: Task) => {
  clock.set(new Date(iso));
  await store.update(task);
};

describe('the write path', () => {
  it("holds a pathway Task's facts, instants as the index's upper bound", async () => {
    await store.update(escalation('e1'));
    expect(await facts()).toEqual([
      {
        id: 'e1', code: 'escalation', status: 'requested', priority: 'asap', business_status: null, team: 'cmht', owner_type: 'PractitionerRole', owner_id: 'dr-rao',
        patient: 'p1', part_of: 'parent', outcome: null, authored: new Date('2026-03-02T09:00:00.999Z'), due: new Date('2026-03-02T13:00:00.999Z'), ended: null,
        status_since: new Date('2026-03-02T09:00:00Z'), created: new Date('2026-03-02T09:00:00Z'),
      },
    ]);
  });

  it('keeps status_since while the status stays, moves it when the status changes, and drops the row on deletion', async () => {
    await at('2026-03-02T09:00:00Z', escalation('e1'));
    await at('2026-03-02T10:00:00Z', escalation('e1', { note: [{ text: 'called' }] }));
    expect((await facts())[0].status_since).toEqual(new Date('2026-03-02T09:00:00Z'));
    await at('2026-03-02T11:00:00Z', escalation('e1', { status: 'completed', executionPeriod: { end: '2026-03-02T11:00:00Z' } }));
    await at('2026-03-03T08:00:00Z', escalation('e1', { status: 'completed', executionPeriod: { end: '2026-03-02T11:00:00Z' }, note: [{ text: 'MDT booked' }] }));
    expect(await facts()).toMatchObject([{ status: 'completed', status_since: new Date('2026-03-02T11:00:00Z'), ended: new Date('2026-03-02T11:00:00.999Z'), created: new Date('2026-03-02T09:00:00Z') }]);
    await store.delete('Task', 'e1');
    expect(await facts()).toEqual([]);
  });

  it('has no row for a Task without a Stepwise task code, nor for other types', async () => {
    await store.update({ ...escalation('x1'), code: { coding: [{ system: 'http://example.org/other', code: 'escalation' }] } });
    await store.update({ resourceType: 'Patient', id: 'p1' });
    expect(await facts()).toEqual([]);
  });
});

describe('migration 21', () => {
  it('backfills the rows the write path writes, status_since from the history', async () => {
    await at('2026-03-02T09:00:00Z', escalation('e1'));
    await at('2026-03-02T11:00:00Z', escalation('e1', { status: 'completed' }));
    await at('2026-03-03T08:00:00Z', escalation('e1', { status: 'completed', note: [{ text: 'MDT booked' }] }));
    await at('2026-03-02T09:30:00Z', escalation('e2', { status: 'in-progress' }));
    await at('2026-03-02T10:00:00Z', escalation('e2', { status: 'on-hold' }));
    await at('2026-03-02T12:00:00Z', escalation('e2', { status: 'in-progress', output: [{ type: { coding: [{ system: PATHWAY.taskParameterType, code: 'contact-outcome' }] }, valueCodeableConcept: { coding: [{ system: CONTACT_OUTCOME.system, code: 'did-not-attend' }] } }] }));
    await at('2026-03-02T09:00:00Z', { ...escalation('t1'), code: { coding: [{ system: PATHWAY.taskCode, code: 'triage' }] }, businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'triaged' }] } });
    await store.delete('Task', 't1');
    const written = await facts();
    expect(written.map((f) => [f.id, f.status_since, f.outcome])).toEqual([
      ['e1', new Date('2026-03-02T11:00:00Z'), null],
      // in progress again since 12:00: the last run of versions with the status; its outcome from the contact-outcome parameter
      ['e2', new Date('2026-03-02T12:00:00Z'), 'did-not-attend'],
    ]);
    await t.db.query('DROP TABLE task_fact');
    await t.db.query('DELETE FROM schema_migration WHERE version = 21');
    expect(await migrate(t.db, migrations)).toEqual([21]);
    expect(await facts()).toEqual(written);
  });
});

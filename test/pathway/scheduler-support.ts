import { randomBytes } from 'node:crypto';
import type { CarePlan, CareTeam, Flag, Patient, Practitioner, Resource, Task } from '@medplum/fhirtypes';
import pg from 'pg';
import type { FixedClock } from '../../src/clock.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { CARE, CareActivity } from '../../src/pathway/care/codes.js';
import { leadParticipant } from '../../src/pathway/care/care-team.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { ContactOutcome, outcomeOutput } from '../../src/pathway/outreach/outcome.js';
import { SCHEDULER } from '../../src/pathway/scheduler/codes.js';
import { writeWithPolicies } from '../../src/pathway/write-policies.js';
import { migrate } from '../../src/store/migrate.js';
import { PostgresDatabase } from '../../src/store/postgres-database.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { TEST_DATABASE_URL } from '../support/databases.js';

/** A write as REST makes it: through every pathway policy, in one transaction. */
export async function write<T extends Resource>(store: ResourceStore, resource: T): Promise<T & { id: string }> {
  const isNew = !resource.id;
  const result = await writeWithPolicies(store, resource, isNew, async (s, r) => (isNew ? { resource: await s.create(r), created: true, changed: true } : s.update(r)));
  return result.resource as T & { id: string };
}

export async function tasks(store: ResourceStore, params: [string, string][] = []): Promise<Task[]> {
  return (await store.search(parseSearch('Task', [...params, ['_count', '1000']]))).matches as Task[];
}

export async function tasksCoded(store: ResourceStore, code: string, more: [string, string][] = []): Promise<Task[]> {
  return tasks(store, [['code', `${PATHWAY.taskCode}|${code}`], ...more]);
}

export function codeOf(task: Task): string | undefined {
  return task.code?.coding?.find((c) => c.system === PATHWAY.taskCode)?.code;
}

/** The job keys the scheduler's Tasks carry, one per Task: a key seen twice is a Task created twice. */
export function jobKeys(all: Task[]): string[] {
  return all.flatMap((t) => t.identifier?.filter((i) => i.system === SCHEDULER.jobKey).map((i) => i.value!) ?? []);
}

export interface Person {
  patient: Patient & { id: string };
  lead: Practitioner & { id: string };
  team: CareTeam & { id: string };
  plan: CarePlan & { id: string };
}

export interface PlanShape {
  /** Activities as [code, frequency, period, unit]. */
  cadences?: [string, number, number, 'd' | 'wk' | 'mo'][];
  reviewDate?: string;
  start?: string;
}

/**
 * A person in ongoing care: a Patient, their lead (a Practitioner), a CareTeam with the lead
 * accountable and an active CarePlan with a weekly wellbeing contact and a monthly structured
 * review unless told otherwise, all written through the policies.
 */
export async function personInCare(store: ResourceStore, n: string | number, shape: PlanShape = {}): Promise<Person> {
  const now = store.clock.now().toISOString();
  const patient = await write(store, { resourceType: 'Patient', id: `sched-pat-${n}`, name: [{ family: `Person ${n}` }] } as Patient);
  const lead = await write(store, { resourceType: 'Practitioner', id: `sched-lead-${n}`, name: [{ family: `Lead ${n}` }] } as Practitioner);
  const team = await write(store, {
    resourceType: 'CareTeam',
    id: `sched-team-${n}`,
    status: 'active',
    subject: { reference: `Patient/${patient.id}` },
    participant: [leadParticipant({ reference: `Practitioner/${lead.id}` }, now)],
  } as CareTeam);
  const cadences = shape.cadences ?? [
    [CareActivity.weeklyWellbeingContact, 1, 1, 'wk'],
    [CareActivity.monthlyStructuredReview, 1, 1, 'mo'],
  ];
  const plan = await write(store, {
    resourceType: 'CarePlan',
    id: `sched-plan-${n}`,
    status: 'active',
    intent: 'plan',
    subject: { reference: `Patient/${patient.id}` },
    category: [{ coding: [{ system: PATHWAY.levelOfSupport, code: 'ongoing-care' }] }],
    period: { start: shape.start ?? now },
    careTeam: [{ reference: `CareTeam/${team.id}` }],
    ...(shape.reviewDate ? { extension: [{ url: CARE.reviewDate, valueDate: shape.reviewDate }] } : {}),
    activity: cadences.map(([code, frequency, period, periodUnit]) => ({
      detail: { status: 'scheduled', code: { coding: [{ system: CARE.careActivity, code }] }, scheduledTiming: { repeat: { frequency, period, periodUnit } } },
    })),
  } as CarePlan);
  return { patient, lead, team, plan };
}

/** A risk flag of the person: high (PH) or medium (PM). */
export function riskFlag(patientId: string, domain: string, severity: 'PH' | 'PM', id = `flag-${patientId}-${domain}`): Flag {
  return {
    resourceType: 'Flag',
    id,
    status: 'active',
    extension: [{ url: CARE.flagPriority, valueCodeableConcept: { coding: [{ system: CARE.flagPriorityCode, code: severity }] } }],
    category: [{ coding: [{ system: CARE.riskFlagCategory, code: domain }] }],
    code: { text: `${domain} (${severity})` },
    subject: { reference: `Patient/${patientId}` },
  };
}

/** Ends a contact or attempt as the worker records it (the policies stamp its time and outcome). */
export async function recordOutcome(store: ResourceStore, task: Task, outcome: 'made' | 'missed' | 'did-not-attend'): Promise<Task> {
  const current = (await store.read('Task', task.id!)) as Task;
  if (outcome === 'missed') return write(store, { ...current, status: 'failed', statusReason: { text: 'No answer' } });
  if (outcome === 'made') return write(store, { ...current, status: 'completed' });
  return write(store, { ...current, status: 'completed', output: [outcomeOutput(ContactOutcome.didNotAttend)] });
}

export interface TwoInstances {
  a: ResourceStore;
  b: ResourceStore;
  /** The schema both instances use (for a raw connection of a test's own). */
  schema: string;
  dispose(): Promise<void>;
}

/**
 * Two server instances on one PostgreSQL database: two pools (two Database objects) on one schema
 * of the test database, sharing the test's clock.
 */
export async function twoPostgresInstances(clock: FixedClock): Promise<TwoInstances> {
  const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const dbA = new PostgresDatabase({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 });
  const dbB = new PostgresDatabase({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 });
  await migrate(dbA);
  return {
    a: new ResourceStore(dbA, clock),
    b: new ResourceStore(dbB, clock),
    schema,
    dispose: async () => {
      await dbA.close();
      await dbB.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

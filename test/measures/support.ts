import type { Measure, MeasureReport, MeasureReportGroup, Task, TaskOutput } from '@medplum/fhirtypes';
import { FixedClock } from '../../src/clock.js';
import { loadStepwiseConformance } from '../../src/fhir/stepwise-profiles.js';
import { evaluateMeasure, type MeasureRequest } from '../../src/measures/evaluate.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { CONTACT_OUTCOME } from '../../src/pathway/outreach/outcome.js';
import { teamExtension } from '../../src/pathway/tasks/team.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { upsertAll } from '../../src/store/seed.js';
import type { TestDatabase } from '../support/databases.js';

/** Evaluation happens on Friday 10 April 2026, after the March period: outcomes recorded by then count. */
export const EVALUATED_AT = new Date('2026-04-10T12:00:00Z');
/** March 2026 as London days: 1 March 00:00 GMT to 1 April 00:00 BST (31 March 23:00 UTC). */
export const MARCH: MeasureRequest = { periodStart: '2026-03-01', periodEnd: '2026-03-31' };

export const NORTH = 'Organization/cmht-north';
export const CRISIS = 'Organization/crisis-team';

export interface MeasureTestStore {
  store: ResourceStore;
  clock: FixedClock;
  /** Writes a version of the Task at `at` (its lastUpdated, as history records it). */
  put(task: Task, at?: string): Promise<void>;
  evaluate(measure: string, request?: Partial<MeasureRequest>, store?: ResourceStore): Promise<MeasureReport>;
  dispose(): Promise<void>;
}

export async function measureStore(open: () => Promise<TestDatabase>): Promise<MeasureTestStore> {
  const t = await open();
  const clock = new FixedClock(new Date('2026-02-01T00:00:00Z'));
  const store = new ResourceStore(t.db, clock);
  await upsertAll(store, loadStepwiseConformance().filter((r): r is Measure => r.resourceType === 'Measure'));
  return {
    store,
    clock,
    put: async (task, at) => {
      clock.set(new Date(at ?? task.authoredOn ?? '2026-02-01T00:00:00Z'));
      await store.update(task);
    },
    evaluate: async (measure, request = {}, as = store) => {
      clock.set(EVALUATED_AT);
      return evaluateMeasure(as, measure, { ...MARCH, ...request });
    },
    dispose: () => t.dispose(),
  };
}

export interface TaskFacts {
  patient: string;
  status: Task['status'];
  team?: string;
  owner?: string;
  priority?: Task['priority'];
  authored?: string;
  due?: string;
  ended?: string;
  businessStatus?: string;
  partOf?: string;
  output?: TaskOutput[];
}

/** A pathway Task as Stepwise records it (the fields the measures read). */
export function task(id: string, code: string, f: TaskFacts): Task {
  return {
    resourceType: 'Task',
    id,
    status: f.status,
    intent: 'order',
    code: { coding: [{ system: PATHWAY.taskCode, code }] },
    for: { reference: f.patient },
    ...(f.team ? { extension: [teamExtension({ reference: f.team })] } : {}),
    ...(f.owner || f.team ? { owner: { reference: f.owner ?? f.team } } : {}),
    ...(f.priority ? { priority: f.priority } : {}),
    ...(f.authored ? { authoredOn: f.authored } : {}),
    ...(f.due ? { restriction: { period: { end: f.due } } } : {}),
    ...(f.ended ? { executionPeriod: { start: f.authored, end: f.ended } } : {}),
    ...(f.businessStatus ? { businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: f.businessStatus }] } } : {}),
    ...(f.partOf ? { partOf: [{ reference: f.partOf }] } : {}),
    ...(f.output ? { output: f.output } : {}),
  };
}

export function outcome(code: string): TaskOutput[] {
  return [{ type: { coding: [{ system: PATHWAY.taskParameterType, code: CONTACT_OUTCOME.outputType }] }, valueCodeableConcept: { coding: [{ system: CONTACT_OUTCOME.system, code }] } }];
}

export interface Counts {
  ip: number;
  den: number;
  excl: number;
  num: number;
  score?: number;
}

function countsOf(g: Pick<MeasureReportGroup, 'population' | 'measureScore'>): Counts {
  const count = (code: string) => g.population?.find((p) => p.code?.coding?.[0]?.code === code)?.count ?? -1;
  return { ip: count('initial-population'), den: count('denominator'), excl: count('denominator-exclusion'), num: count('numerator'), ...(g.measureScore ? { score: g.measureScore.value } : {}) };
}

export function group(report: MeasureReport, id = 'proportion'): MeasureReportGroup {
  const g = report.group?.find((x) => x.id === id);
  if (!g) throw new Error(`no group ${id}`);
  return g;
}

/** The proportion group's populations and score, overall or for one stratum (`team` or `priority` = value). */
export function counts(report: MeasureReport, stratum?: [string, string]): Counts {
  const g = group(report);
  if (!stratum) return countsOf(g);
  const s = g.stratifier?.find((x) => x.code?.[0]?.text === stratum[0])?.stratum?.find((x) => x.value?.text === stratum[1]);
  if (!s) throw new Error(`no stratum ${stratum.join('=')}`);
  return countsOf(s);
}

/** The median or 90th percentile in minutes, overall or for one stratum. */
export function minutes(report: MeasureReport, id: 'median-minutes' | 'p90-minutes', stratum?: [string, string]): number | undefined {
  const g = group(report, id);
  const scored = stratum ? g.stratifier?.find((x) => x.code?.[0]?.text === stratum[0])?.stratum?.find((x) => x.value?.text === stratum[1]) : g;
  return scored?.measureScore?.value;
}

export function strataValues(report: MeasureReport, stratifier: string): string[] {
  return group(report).stratifier?.find((x) => x.code?.[0]?.text === stratifier)?.stratum?.map((s) => s.value!.text!) ?? [];
}

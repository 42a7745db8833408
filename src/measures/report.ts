import type { CodeableConcept, Measure, MeasureReport, MeasureReportGroup, MeasureReportGroupPopulation, MeasureReportGroupStratifier, MeasureReportGroupStratifierStratum, Quantity } from '@medplum/fhirtypes';
import type { MeasureDefinition } from './definitions.js';

/** One row of the aggregate (evaluate.ts): the whole population, one team, or one priority. */
export interface AggregateRow {
  by_team: boolean;
  by_priority: boolean;
  team: string | null;
  priority: string | null;
  ip: number;
  den: number;
  excl: number;
  num: number;
  observed: number;
  median: number | null;
  p90: number | null;
}

/** The groups of every measure's Measure resource, by id (test/measures checks the profiles agree). */
export const GROUP = { proportion: 'proportion', median: 'median-minutes', p90: 'p90-minutes' } as const;

const POPULATION = 'http://terminology.hl7.org/CodeSystem/measure-population';
const PRIORITY = 'http://hl7.org/fhir/request-priority';
const MINUTES = { unit: 'min', system: 'http://unitsofmeasure.org', code: 'min' } as const;
/** The value of a stratum with no team or no priority recorded. */
export const NOT_RECORDED = 'not-recorded';

export interface ReportInput {
  measure: Measure;
  definition: MeasureDefinition;
  rows: AggregateRow[];
  start: Date;
  end: Date;
  subject?: string;
  generated: Date;
}

/**
 * The MeasureReport (http://hl7.org/fhir/R4/measurereport.html): type `summary`, or `individual`
 * with a subject. The proportion group carries the populations (initial population, denominator,
 * denominator exclusion, numerator) and the score numerator / (denominator - exclusions), absent
 * when nothing is left to score; a measure that observes minutes adds the median and the 90th
 * percentile as continuous-variable groups. Each group is stratified by team and by priority.
 */
export function buildReport({ measure, definition, rows, start, end, subject, generated }: ReportInput): MeasureReport {
  const total = rows.find((r) => !r.by_team && !r.by_priority) ?? emptyRow();
  const teams = rows.filter((r) => r.by_team).sort(byValue('team'));
  const priorities = rows.filter((r) => r.by_priority).sort(byValue('priority'));
  const groups: [string, (r: AggregateRow) => Scored][] = [[GROUP.proportion, proportion]];
  if (definition.observesMinutes) groups.push([GROUP.median, (r) => observation(r, r.median)], [GROUP.p90, (r) => observation(r, r.p90)]);
  const group: MeasureReportGroup[] = groups.map(([id, score]) => ({
    id,
    ...codeOf(measure, id),
    ...score(total),
    stratifier: [
      stratifier('team', teams.map((r) => stratum({ text: r.team ?? NOT_RECORDED }, score(r)))),
      stratifier('priority', priorities.map((r) => stratum(r.priority ? { coding: [{ system: PRIORITY, code: r.priority }], text: r.priority } : { text: NOT_RECORDED }, score(r)))),
    ],
  }));
  return {
    resourceType: 'MeasureReport',
    status: 'complete',
    type: subject ? 'individual' : 'summary',
    measure: measure.version ? `${measure.url}|${measure.version}` : measure.url!,
    ...(subject ? { subject: { reference: subject } } : {}),
    date: generated.toISOString(),
    period: { start: start.toISOString(), end: new Date(end.getTime() - 1000).toISOString() },
    ...(measure.improvementNotation ? { improvementNotation: measure.improvementNotation } : {}),
    group,
  };
}

interface Scored {
  population: MeasureReportGroupPopulation[];
  measureScore?: Quantity;
}

function proportion(r: AggregateRow): Scored {
  const scored = r.den - r.excl;
  return {
    population: [population('initial-population', r.ip), population('denominator', r.den), population('denominator-exclusion', r.excl), population('numerator', r.num)],
    ...(scored > 0 ? { measureScore: { value: round(r.num / scored, 4) } } : {}),
  };
}

function observation(r: AggregateRow, minutes: number | null): Scored {
  return {
    population: [population('initial-population', r.ip), population('measure-population', r.observed), population('measure-observation', r.observed)],
    ...(minutes !== null && r.observed > 0 ? { measureScore: { value: round(Number(minutes), 1), ...MINUTES } } : {}),
  };
}

/** A stratifier of the Measure, reported even with no strata (an empty list is left out: FHIR has no empty arrays). */
function stratifier(code: string, strata: MeasureReportGroupStratifierStratum[]): MeasureReportGroupStratifier {
  return { code: [{ text: code }], ...(strata.length ? { stratum: strata } : {}) };
}

function stratum(value: CodeableConcept, scored: Scored): MeasureReportGroupStratifierStratum {
  return { value, ...scored };
}

function population(code: string, count: number): MeasureReportGroupPopulation {
  return { code: { coding: [{ system: POPULATION, code }] }, count };
}

/** The group's code as the Measure gives it. */
function codeOf(measure: Measure, id: string): { code?: CodeableConcept } {
  const code = measure.group?.find((g) => g.id === id)?.code;
  return code ? { code } : {};
}

function byValue(key: 'team' | 'priority') {
  return (a: AggregateRow, b: AggregateRow) => (a[key] ?? '\uffff').localeCompare(b[key] ?? '\uffff');
}

function emptyRow(): AggregateRow {
  return { by_team: false, by_priority: false, team: null, priority: null, ip: 0, den: 0, excl: 0, num: 0, observed: 0, median: null, p90: null };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

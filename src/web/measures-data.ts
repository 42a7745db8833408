import type { Measure, MeasureReport, MeasureReportGroup } from '@medplum/fhirtypes';
import { FhirError } from '../errors.js';
import { MEASURES } from '../measures/definitions.js';
import { evaluateMeasure } from '../measures/evaluate.js';
import type { ResourceStore } from '../store/resource-store.js';

/** One figure: the proportion of a group, or a time in minutes, with the counts behind it. */
export interface Figure {
  label: string;
  /** 0–1 for a proportion; minutes for a time. */
  score?: number;
  numerator?: number;
  denominator?: number;
  excluded?: number;
  median?: number;
  p90?: number;
}

export interface MeasureView {
  id: string;
  title: string;
  description?: string;
  /** What the proportion counts (the group's code text: "Triaged within standard"). */
  counts: string;
  higherIsBetter: boolean;
  overall: Figure;
  byTeam: Figure[];
  byPriority: Figure[];
  observesMinutes: boolean;
  /** The measure is not published on this server, or cannot be evaluated for this sign-in. */
  unavailable?: string;
}

/**
 * Every published measure over the period, evaluated by src/measures (in SQL, within the
 * principal's compartment: a team sees its own strata) one after another.
 */
export async function loadMeasures(store: ResourceStore, period: { start: string; end: string }, teamName: (ref: string) => string): Promise<MeasureView[]> {
  const views: MeasureView[] = [];
  for (const definition of MEASURES) {
    const measure = (await store.readOrUndefined('Measure', definition.id)) as Measure | undefined;
    const title = measure?.title ?? definition.id;
    const base = { id: definition.id, title, description: measure?.description, observesMinutes: definition.observesMinutes };
    if (!measure) {
      views.push({ ...base, counts: '', higherIsBetter: true, overall: { label: 'All' }, byTeam: [], byPriority: [], unavailable: 'This measure is not published on this server.' });
      continue;
    }
    let report: MeasureReport;
    try {
      report = await evaluateMeasure(store, definition.id, { periodStart: period.start, periodEnd: period.end });
    } catch (err) {
      if (!(err instanceof FhirError) || err.status >= 500) throw err;
      views.push({ ...base, counts: '', higherIsBetter: true, overall: { label: 'All' }, byTeam: [], byPriority: [], unavailable: err.message });
      continue;
    }
    views.push({ ...base, ...figuresOf(report, teamName), higherIsBetter: measure.improvementNotation?.coding?.[0]?.code !== 'decrease' });
  }
  return views;
}

const count = (g: { population?: MeasureReportGroup['population'] }, code: string) => g.population?.find((p) => p.code?.coding?.[0]?.code === code)?.count;

function figuresOf(report: MeasureReport, teamName: (ref: string) => string): Pick<MeasureView, 'counts' | 'overall' | 'byTeam' | 'byPriority'> {
  const groups = report.group ?? [];
  const proportion = groups.find((g) => g.id === 'proportion');
  const median = groups.find((g) => g.id === 'median-minutes');
  const p90 = groups.find((g) => g.id === 'p90-minutes');
  const figure = (label: string, pick: (g: MeasureReportGroup) => { population?: MeasureReportGroup['population']; measureScore?: { value?: number } } | undefined): Figure => {
    const p = proportion && pick(proportion);
    return {
      label,
      score: p?.measureScore?.value,
      numerator: p && count(p, 'numerator'),
      denominator: p && count(p, 'denominator'),
      excluded: p && count(p, 'denominator-exclusion'),
      median: median && pick(median)?.measureScore?.value,
      p90: p90 && pick(p90)?.measureScore?.value,
    };
  };
  const strata = (which: number, label: (text: string) => string) =>
    (proportion?.stratifier?.[which]?.stratum ?? []).map((s) => {
      const key = s.value?.text ?? '';
      return figure(label(key), (g) => g.stratifier?.[which]?.stratum?.find((x) => x.value?.text === key));
    });
  return {
    counts: proportion?.code?.text ?? 'Proportion',
    overall: figure('All', (g) => g),
    byTeam: strata(0, (t) => (t === 'not-recorded' ? 'No team recorded' : teamName(t))),
    byPriority: strata(1, (p) => PRIORITY_NAMES[p] ?? p),
  };
}

const PRIORITY_NAMES: Record<string, string> = { stat: 'Emergency', asap: 'Same day', urgent: 'Urgent', routine: 'Routine', 'not-recorded': 'No priority recorded' };

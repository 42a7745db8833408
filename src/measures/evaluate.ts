import type { Measure, MeasureReport } from '@medplum/fhirtypes';
import { badRequest, FhirError, FhirErrorCode } from '../errors.js';
import type { ResourceStore } from '../store/resource-store.js';
import { SqlParams } from '../store/sql.js';
import { measureDefinition, type MeasureDefinition, type MeasureWindow } from './definitions.js';
import { reportingPeriod } from './period.js';
import { buildReport, type AggregateRow } from './report.js';

export interface MeasureRequest {
  /** A date (a London day) or a dateTime; see period.ts. */
  periodStart: string;
  periodEnd: string;
  /** `Patient/[id]`: an individual report about that person. */
  subject?: string;
  /** `Organization/[id]` (or the id): only that team's cases. */
  team?: string;
}

/**
 * Measure/[id]/$evaluate-measure (http://hl7.org/fhir/R4/measure-operation-evaluate-measure.html):
 * the MeasureReport of a published Stepwise measure over a period, computed in one SQL statement
 * (definitions.ts, aggregated with GROUPING SETS and percentile_cont), with strata by team and
 * priority. `store` is the principal's (`store.for(principal)`): a restricted principal counts
 * only cases it may read (its compartment) and of its own teams, so a team sees its own strata.
 */
export async function evaluateMeasure(store: ResourceStore, measureId: string, request: MeasureRequest): Promise<MeasureReport> {
  const measure = (await store.read('Measure', measureId)) as Measure;
  const definition = measureDefinition(measureId);
  if (!definition) throw new FhirError(FhirErrorCode.UNPROCESSABLE, { message: `Measure/${measureId} has no Stepwise definition to evaluate; the measures are listed in src/measures/README.md`, expression: 'Measure' });
  const { start, end } = reportingPeriod(request.periodStart, request.periodEnd);
  const subject = request.subject === undefined ? undefined : patientReference(request.subject);
  const team = request.team === undefined ? undefined : teamReference(request.team);
  const now = store.clock.now();
  const rows = await aggregate(store, definition, { start, end, asOf: now, subject, team });
  return buildReport({ measure, definition, rows, start, end, subject, generated: now });
}

interface Evaluation {
  start: Date;
  end: Date;
  asOf: Date;
  subject?: string;
  team?: string;
}

async function aggregate(store: ResourceStore, definition: MeasureDefinition, scope: Evaluation): Promise<AggregateRow[]> {
  const p = new SqlParams();
  const limits: ((alias: string) => string)[] = [];
  if (scope.subject) {
    const subject = p.add(scope.subject);
    limits.push((x) => `${x}.patient = ${subject}`);
  }
  if (scope.team) {
    const team = p.add(scope.team);
    limits.push((x) => `${x}.team = ${team}`);
  }
  const compartment = store.compartment;
  let where = '';
  if (compartment) {
    // only the principal's own teams' cases: a team sees its own strata
    const teams = `ARRAY(SELECT 'Organization/' || o.id FROM sp_token tk JOIN resource o ON o.rid = tk.rid AND NOT o.deleted
      WHERE tk.type = 'Organization' AND tk.param = 'identifier' AND tk.system = ${p.add(compartment.rule.teamIdentifierSystem)} AND tk.code = ANY(${p.add(compartment.rule.teams, 'text[]')}))`;
    limits.push((x) => `${x}.team = ANY(${teams})`);
    // and of those only what it may read: a Task naming the team is in its compartment by its own
    // keys; one counted for the team through its owner's organisation is checked
    where = `WHERE (NOT c.team_via_role OR EXISTS (SELECT 1 FROM resource a WHERE a.rid = c.rid AND ${compartment.visible('a', p, 'Task')}))`;
  }
  const w = windowOf(p, scope, limits.length ? (x) => limits.map((limit) => limit(x)).join(' AND ') : undefined);
  const cases = definition.cases(p, w);
  // a condition that is unknown (a fact not recorded) neither excludes a case nor puts it in the numerator
  const counted = `den AND excl IS NOT TRUE`;
  const sql = `WITH cases AS (${cases})
    SELECT GROUPING(c.team) = 0 AS by_team, GROUPING(c.priority) = 0 AS by_priority, c.team, c.priority,
      count(*) FILTER (WHERE ip)::int AS ip,
      count(*) FILTER (WHERE den)::int AS den,
      count(*) FILTER (WHERE den AND excl IS TRUE)::int AS excl,
      count(*) FILTER (WHERE ${counted} AND num IS TRUE)::int AS num,
      count(minutes) FILTER (WHERE ${counted})::int AS observed,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes) FILTER (WHERE ${counted}) AS median,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes) FILTER (WHERE ${counted}) AS p90
    FROM cases c ${where}
    GROUP BY GROUPING SETS ((), (c.team), (c.priority))`;
  return store.transaction(async (tx) => {
    // one large statement over a year of Tasks: compiling it with JIT cost more (0.6 s) than running
    // it, and its sorts and hashes fit in memory instead of spilling to disk
    if (store.database.kind === 'postgres') {
      await tx.queryable.query('SET LOCAL jit = off');
      await tx.queryable.query("SET LOCAL work_mem = '64MB'");
    }
    return tx.queryable.query<AggregateRow>(sql, p.values);
  });
}

/** The period's placeholders, each bound when a definition first uses it: a parameter no statement uses has no type. */
function windowOf(p: SqlParams, scope: Evaluation, limit?: (alias: string) => string): MeasureWindow {
  const placeholders = new Map<string, string>();
  const at = (key: string, instant: Date) => () => {
    if (!placeholders.has(key)) placeholders.set(key, p.add(instant.toISOString(), 'timestamptz'));
    return placeholders.get(key)!;
  };
  const start = at('start', scope.start);
  const end = at('end', scope.end);
  const asOf = at('asOf', scope.asOf);
  return {
    get start() {
      return start();
    },
    get end() {
      return end();
    },
    get asOf() {
      return asOf();
    },
    scope: limit,
  };
}

function patientReference(value: string): string {
  const m = /^(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(value);
  if (!m) throw badRequest(`subject must be a Patient, Patient/[id]; got '${value}'`, 'subject');
  return `Patient/${m[1]}`;
}

function teamReference(value: string): string {
  const m = /^(?:Organization\/)?([A-Za-z0-9\-.]{1,64})$/.exec(value);
  if (!m) throw badRequest(`team must be a team, Organization/[id]; got '${value}'`, 'team');
  return `Organization/${m[1]}`;
}

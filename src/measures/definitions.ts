import { PATHWAY, TaskCode } from '../pathway/codes.js';
import { ContactOutcome } from '../pathway/outreach/outcome.js';
import type { SqlParams } from '../store/sql.js';
import { partsOf, presentedWithin, taskFacts, VOID_STATUSES, type Scope } from './task-facts.js';

/**
 * The pathway measures (issue 16; domain.md "Why the software exists"), each the SQL behind one
 * published Measure (profiles/source/Measure-<id>.json, whose population criteria say the same in
 * words and name these expressions). Every definition selects one row per case:
 *
 * | column | meaning |
 * | --- | --- |
 * | `rid` | the resource measured (a Task), for the compartment check |
 * | `patient`, `team`, `priority` | its subject, team (`Organization/[id]`) and priority: the strata |
 * | `team_via_role` | its team is its owner's Organization (taskFacts) |
 * | `ip`, `den`, `excl`, `num` | in the initial population, the denominator, a denominator exclusion, the numerator |
 * | `minutes` | the measure observation of a continuous-variable group (null when none) |
 *
 * `w` holds the placeholders of the reporting period [start, end) and of `asOf`, the instant of
 * evaluation (MeasureReport.date). The period chooses the cases (a cohort: referrals received in
 * it, step-downs in it, …); their outcomes are what is recorded by `asOf`, also after the period
 * ended, since a referral received on the 31st is triaged on the 1st. Work still open whose
 * standard has not yet passed at `asOf` is excluded (its answer is not known yet); work open past
 * its standard counts against it.
 */
export interface MeasureWindow {
  start: string;
  end: string;
  asOf: string;
  /** What the report is limited to (a team, a person, the principal's teams), applied to the measured Tasks only. */
  scope?: Scope;
}

export interface MeasureDefinition {
  id: string;
  cases(p: SqlParams, w: MeasureWindow): string;
  /** Reports the median and 90th percentile of `minutes` (continuous-variable groups) beside the proportion. */
  observesMinutes: boolean;
}

const voids = (p: SqlParams) => p.add(VOID_STATUSES, 'text[]');
const minutesBetween = (from: string, to: string) => `(extract(epoch FROM (${to} - ${from})) / 60.0)`;

/**
 * Time to triage: triage Tasks received in the period (authoredOn = receipt). Numerator: triaged
 * (completed) at or before the Task's due time (the response standard its rule gave: 4 hours,
 * 24 hours, 4 weeks). Excluded: the referral withdrawn (cancelled) or entered in error, and a Task
 * still waiting whose due time is after `asOf`. Observation: minutes from receipt to completion,
 * elapsed time (the clock does not stop while the referral is on hold for missing information).
 */
const timeToTriage: MeasureDefinition = {
  id: 'time-to-triage',
  observesMinutes: true,
  cases: (p, w) => `SELECT t.rid, t.patient, t.team, t.team_via_role, t.priority, true AS ip, true AS den,
      (t.status = ANY(${voids(p)}) OR (NOT t.done AND (t.due IS NULL OR t.due > ${w.asOf}))) AS excl,
      (t.done AND t.ended <= t.due) AS num,
      CASE WHEN t.done THEN ${minutesBetween('t.authored', 't.ended')} END AS minutes
    FROM (SELECT f.*, (f.status = 'completed' AND f.ended <= ${w.asOf}) AS done FROM (${taskFacts(p, [TaskCode.triage], w.scope)}) f) t
    WHERE t.authored >= ${w.start} AND t.authored < ${w.end}`,
};

/**
 * Minimum-dataset compliance: triage Tasks received in the period. Numerator: the referral
 * arrived with the whole minimum dataset, i.e. the front door made no call to the referrer (a
 * clarify-referral Task partOf the triage Task is made for any gap, held or same-day). Excluded:
 * entered in error.
 */
const mdsCompliance: MeasureDefinition = {
  id: 'mds-compliance',
  observesMinutes: false,
  cases: (p, w) => `SELECT t.rid, t.patient, t.team, t.team_via_role, t.priority, true AS ip, true AS den,
      (t.status = 'entered-in-error') AS excl,
      (cl.part_of IS NULL) AS num,
      NULL::float8 AS minutes
    FROM (${taskFacts(p, [TaskCode.triage], w.scope)}) t
    LEFT JOIN (${partsOf(p, TaskCode.clarify)}) cl ON cl.part_of = t.id
    WHERE t.authored >= ${w.start} AND t.authored < ${w.end}`,
};

/**
 * Redirect rate: triage Tasks completed in the period (executionPeriod.end). Numerator: redirected
 * (businessStatus redirected; or a triage outcome `redirected`, which a completion not stamped
 * `triaged` carries: triage-completion.ts stamps every other completion `triaged`). Improvement
 * is neither up nor down: the rate is watched, not driven.
 */
const redirectRate: MeasureDefinition = {
  id: 'redirect-rate',
  observesMinutes: false,
  cases: (p, w) => `SELECT t.rid, t.patient, t.team, t.team_via_role, t.priority, true AS ip, true AS den, false AS excl,
      (t.business_status = 'redirected' OR (t.business_status IS DISTINCT FROM 'triaged' AND EXISTS (
        SELECT 1 FROM resource x, jsonb_array_elements(COALESCE(x.content::jsonb -> 'output', '[]')) o
        WHERE x.rid = t.rid AND o -> 'valueCodeableConcept' -> 'coding' @> ${p.add(JSON.stringify([{ system: PATHWAY.levelOfSupport, code: 'redirected' }]), 'jsonb')}))) AS num,
      NULL::float8 AS minutes
    FROM (${taskFacts(p, [TaskCode.triage], w.scope)}) t
    WHERE t.status = 'completed' AND t.ended >= ${w.start} AND t.ended < ${w.end} AND t.ended <= ${w.asOf}`,
};

/**
 * Crisis presentations while awaiting allocation: triage Tasks received in the period. Numerator:
 * the person presented in crisis (a same-day referral or a same-day escalation, task-facts.ts
 * crisisPresentations) after this referral was received and before it was triaged (completed), or
 * by `asOf` while it still waits. Excluded: withdrawn or entered in error.
 */
const crisisWhileAwaiting: MeasureDefinition = {
  id: 'crisis-while-awaiting',
  observesMinutes: false,
  cases: (p, w) => `WITH waits AS MATERIALIZED (
      SELECT t.*, LEAST(CASE WHEN t.status = 'completed' THEN t.ended END, ${w.asOf}) AS up_to
      FROM (${taskFacts(p, [TaskCode.triage], w.scope)}) t
      WHERE t.authored >= ${w.start} AND t.authored < ${w.end})
    SELECT t.rid, t.patient, t.team, t.team_via_role, t.priority, true AS ip, true AS den,
      (t.status = ANY(${voids(p)})) AS excl, (hit.rid IS NOT NULL) AS num, NULL::float8 AS minutes
    FROM waits t LEFT JOIN (${presentedWithin('waits')}) hit ON hit.rid = t.rid`,
};

/**
 * Time to clinical review after an escalation, against its standard: escalation Tasks raised in
 * the period. The review is the clinician's decision: when the Task became completed (accepted or
 * declined, step-up/decision.ts) or rejected, i.e. its first version with that final status in its
 * history (kept as task_fact.status_since).
 * Numerator: reviewed at or before the due time (same day: within 4 hours and by 23:59:59 London
 * time, risk/same-day.ts; or what the clinician who raised it set). Excluded: cancelled, entered
 * in error, failed; not reviewed and not yet due at `asOf`. Observation: minutes from raising
 * (authoredOn) to the review, elapsed.
 */
const timeToClinicalReview: MeasureDefinition = {
  id: 'time-to-clinical-review',
  observesMinutes: true,
  cases: (p, w) => `SELECT t.rid, t.patient, t.team, t.team_via_role, t.priority, true AS ip, true AS den,
      (t.status = ANY(${p.add([...VOID_STATUSES, 'failed'], 'text[]')}) OR (NOT t.done AND (t.due IS NULL OR t.due > ${w.asOf}))) AS excl,
      (t.done AND t.reviewed <= t.due) AS num,
      CASE WHEN t.done THEN ${minutesBetween('t.authored', 't.reviewed')} END AS minutes
    FROM (SELECT r.*, (r.reviewed IS NOT NULL AND r.reviewed <= ${w.asOf}) AS done
      FROM (SELECT f.*, CASE WHEN f.status IN ('completed', 'rejected') THEN f.status_since END AS reviewed
        FROM (${taskFacts(p, [TaskCode.escalation], w.scope)}) f) r) t
    WHERE t.authored >= ${w.start} AND t.authored < ${w.end}`,
};

/** A completed contact is made unless its outcome says otherwise (outreach/outcome.ts records contact made when none is given). */
const made = (t: string) => `(${t}.status = 'completed' AND (${t}.outcome IS NULL OR ${t}.outcome = '${ContactOutcome.made}'))`;

/**
 * First contact within 72 hours after crisis care: first-contact Tasks made in the period (one
 * when a receiving team accepts a handover from crisis care, due within the configured hours,
 * default 72, elapsed: handover/acceptance.ts). Numerator: completed by its due time with the
 * outcome contact made (what the server records for a completed contact unless the worker gave
 * another outcome, outreach/outcome.ts). Excluded: cancelled, entered in error; still open and not yet due at `asOf`.
 * Observation: minutes from the acceptance (authoredOn) to the contact made.
 */
const firstContact: MeasureDefinition = {
  id: 'first-contact-72h',
  observesMinutes: true,
  cases: (p, w) => `SELECT t.rid, t.patient, t.team, t.team_via_role, t.priority, true AS ip, true AS den,
      (t.status = ANY(${voids(p)}) OR (NOT t.done AND (t.due IS NULL OR t.due > ${w.asOf}))) AS excl,
      (t.made AND t.ended <= t.due) AS num,
      CASE WHEN t.made THEN ${minutesBetween('t.authored', 't.ended')} END AS minutes
    FROM (SELECT d.*, (d.done AND ${made('d')}) AS made
      FROM (SELECT f.*, (f.status IN ('completed', 'failed') AND f.ended <= ${w.asOf}) AS done FROM (${taskFacts(p, [TaskCode.firstContact], w.scope)}) f) d) t
    WHERE t.authored >= ${w.start} AND t.authored < ${w.end}`,
};

/**
 * Re-presentation within 30 days of step-down: step-downs in the period, each being a receiving
 * team's acceptance of a handover from crisis care (its first-contact Task's authoredOn, made in
 * the acceptance's transaction). Numerator: the person presented in crisis again (task-facts.ts
 * crisisPresentations) within 30 days (720 hours, elapsed) after it. Excluded: entered in error;
 * no re-presentation yet and the 30 days not over at `asOf`. Lower is better.
 */
const representation: MeasureDefinition = {
  id: 're-presentation-30d',
  observesMinutes: false,
  cases: (p, w) => `WITH windows AS MATERIALIZED (
      SELECT f.*, LEAST(f.authored + interval '720 hours', ${w.asOf}) AS up_to
      FROM (${taskFacts(p, [TaskCode.firstContact], w.scope)}) f
      WHERE f.authored >= ${w.start} AND f.authored < ${w.end})
    SELECT t.rid, t.patient, t.team, t.team_via_role, t.priority, true AS ip, true AS den,
      (t.status = 'entered-in-error' OR (hit.rid IS NULL AND t.authored + interval '720 hours' > ${w.asOf})) AS excl,
      (hit.rid IS NOT NULL) AS num, NULL::float8 AS minutes
    FROM windows t LEFT JOIN (${presentedWithin('windows')}) hit ON hit.rid = t.rid`,
};

/**
 * Handover checklists complete: handovers accepted in the period (the acceptance is the handover's
 * first-contact Task, partOf it). Numerator: the handover completed within 14 days of acceptance
 * (the transition plan's first fortnight); completion needs every checklist item (appointments
 * booked, support hours adjusted, risk plan updated, carer contact agreed or a reason it is not
 * appropriate: handover/transition.ts), so a completed handover is a complete checklist. The
 * completion time is its first completed version in the history (task_fact.status_since). Excluded: entered in
 * error; not complete and the 14 days not over at `asOf`.
 */
const handoverChecklist: MeasureDefinition = {
  id: 'handover-checklist-complete',
  observesMinutes: false,
  cases: (p, w) => `SELECT t.rid, t.patient, t.team, t.team_via_role, t.priority, true AS ip, true AS den,
      (t.status = 'entered-in-error' OR (NOT t.complete AND t.accepted + interval '336 hours' > ${w.asOf})) AS excl,
      t.complete AS num, NULL::float8 AS minutes
    FROM (SELECT c.*, COALESCE(c.completed <= LEAST(c.accepted + interval '336 hours', ${w.asOf}), false) AS complete
      FROM (SELECT h.*, fc.authored AS accepted,
          CASE WHEN h.status = 'completed' THEN h.status_since END AS completed
        FROM (${taskFacts(p, [TaskCode.handover], w.scope)}) h
        JOIN (${partsOf(p, TaskCode.firstContact)}) fc ON fc.part_of = h.id
        WHERE fc.authored >= ${w.start} AND fc.authored < ${w.end}) c) t`,
};

const OUTREACH_STEPS = [TaskCode.outreachCall, TaskCode.outreachHomeVisit, TaskCode.outreachPartnerContact];

/**
 * Outreach steps on time: outreach attempts (call, home visit, partner contact: outreach/ladder.ts)
 * due in the period. Numerator: attempted by the due time, i.e. ended (completed or failed) at or
 * before it with an outcome other than not-done-in-time (which the deadline job records for an
 * attempt nobody made). The due times follow the ladder's clock: the end of the London day of the
 * miss, then the end of the next working day (England and Wales bank holidays,
 * pathway/working-days.ts). Excluded: cancelled, entered in error; still open and not yet due at
 * `asOf`.
 */
const outreachOnTime: MeasureDefinition = {
  id: 'outreach-on-time',
  observesMinutes: false,
  cases: (p, w) => `SELECT t.rid, t.patient, t.team, t.team_via_role, t.priority, true AS ip, true AS den,
      (t.status = ANY(${voids(p)}) OR (NOT t.done AND t.due > ${w.asOf})) AS excl,
      (t.done AND t.ended <= t.due AND t.outcome IS DISTINCT FROM ${p.add(ContactOutcome.notDoneInTime)}) AS num,
      NULL::float8 AS minutes
    FROM (SELECT f.*, (f.status IN ('completed', 'failed') AND f.ended <= ${w.asOf}) AS done FROM (${taskFacts(p, OUTREACH_STEPS, w.scope)}) f) t
    WHERE t.due >= ${w.start} AND t.due < ${w.end}`,
};

export const MEASURES: readonly MeasureDefinition[] = [
  timeToTriage,
  mdsCompliance,
  redirectRate,
  crisisWhileAwaiting,
  timeToClinicalReview,
  firstContact,
  representation,
  handoverChecklist,
  outreachOnTime,
];

export function measureDefinition(id: string): MeasureDefinition | undefined {
  return MEASURES.find((m) => m.id === id);
}

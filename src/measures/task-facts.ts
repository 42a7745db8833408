import type { SqlParams } from '../store/sql.js';

/**
 * The facts of pathway Tasks the measures count, read from `task_fact` (store/task-fact.ts,
 * migration 021: one narrow row per Task, written with its index rows), never from the JSON, so a
 * year of Tasks is one index range aggregated inside the database. One row per Task of the codes:
 *
 * | column | from |
 * | --- | --- |
 * | `rid`, `id` | the Task |
 * | `status`, `priority`, `business_status` | Task.status, .priority, .businessStatus (the triage-status code) |
 * | `team` | the task-team extension (tasks/team.ts); else `owner` when it is an Organization; else the Organization of the PractitionerRole that owns it. `Organization/[id]`, or null |
 * | `patient`, `patient_id` | `Patient/[id]` of Task.for, and its id |
 * | `authored` | Task.authoredOn (receipt, for a triage Task); when the Task was first written if it has none |
 * | `team_via_role` | the team is the owning PractitionerRole's, not one the Task names (so the Task is not in that team's compartment by its own keys) |
 * | `due` | Task.restriction.period.end (the published `due` parameter): the standard, however it was worked out (elapsed hours, working days) |
 * | `ended` | Task.executionPeriod.end: stamped at completion of a triage (triage-completion.ts) and at the end of a contact or attempt (outreach/outcome.ts) |
 * | `outcome` | a contact's or attempt's outcome (Task.output contact-outcome: contact-made, did-not-attend, not-done-in-time) |
 * | `status_since` | when the Task entered its current status: the lastUpdated of the first version with it, as its history records |
 *
 * Instants are the end of the second written (the index's upper bound), the same for every column,
 * so "ended at or before due" is exact to the second.
 */
export function taskFacts(p: SqlParams, codes: readonly string[], scope?: Scope): string {
  const roleOrganization = `(SELECT min(po.target_id) FROM resource prr
      JOIN sp_reference po ON po.rid = prr.rid AND po.param = 'organization' AND po.target_type = 'Organization'
     WHERE prr.type = 'PractitionerRole' AND prr.id = f.owner_id AND NOT prr.deleted)`;
  const facts = `SELECT f.rid, f.id, f.status, f.priority, f.business_status,
      'Organization/' || COALESCE(f.team, CASE WHEN f.owner_type = 'Organization' THEN f.owner_id END,
        CASE WHEN f.owner_type = 'PractitionerRole' THEN ${roleOrganization} END) AS team,
      (f.team IS NULL AND f.owner_type IS DISTINCT FROM 'Organization') AS team_via_role,
      'Patient/' || f.patient AS patient, f.patient AS patient_id, f.authored, f.due, f.ended, f.status_since, f.outcome
    FROM task_fact f
    WHERE f.code = ANY(${p.add(codes, 'text[]')})`;
  return scope ? `SELECT s.* FROM (${facts}) s WHERE ${scope('s')}` : facts;
}

/** A condition on a row of taskFacts (alias given): the team, person or principal a report is limited to. */
export type Scope = (alias: string) => string;

/**
 * For each Task with parts of `code` (Task.partOf), the earliest authoredOn of those parts:
 * `part_of` (the Task's id) and `authored`. Grouped once, then joined, so a year of Tasks is one
 * hash join rather than a probe per Task.
 */
export function partsOf(p: SqlParams, code: string): string {
  return `SELECT pf.part_of, min(pf.authored) AS authored FROM task_fact pf WHERE pf.code = ${p.add(code)} AND pf.part_of IS NOT NULL GROUP BY pf.part_of`;
}

/**
 * Crisis presentations: Tasks that needed a same-day response, with the person (`patient`, an id)
 * and when (`authored`). A referral needing a same-day response (its triage Task at priority stat
 * or asap: a red flag, or urgency asked for that day) or a same-day escalation (an escalation Task
 * at stat or asap: a high-risk flag, a red flag at the front door, an outreach ladder ending with
 * risk indicators, or a clinician's), not entered in error.
 */
export function crisisPresentations(): string {
  return `SELECT cp.rid, cp.patient, cp.authored FROM task_fact cp
    WHERE cp.code IN ('triage', 'escalation') AND cp.priority IN ('stat', 'asap') AND cp.status IS DISTINCT FROM 'entered-in-error'`;
}

/**
 * The rids of the relation `base` (columns rid, patient_id, authored, up_to) whose person presented
 * in crisis after `authored` and up to `up_to`, by a Task other than the one measured. A join, so a
 * year of Tasks is matched in one pass.
 */
export function presentedWithin(base: string): string {
  return `SELECT DISTINCT b.rid FROM ${base} b JOIN (${crisisPresentations()}) cp
    ON cp.patient = b.patient_id AND cp.rid <> b.rid AND cp.authored > b.authored AND cp.authored <= b.up_to`;
}

/** Statuses of a Task that was never real work: withdrawn, or written in error. */
export const VOID_STATUSES = ['cancelled', 'entered-in-error'] as const;

import { PATHWAY } from '../pathway/codes.js';
import type { SqlParams } from '../store/sql.js';

/**
 * The facts of pathway Tasks the measures count, read from the search index (store migration 1:
 * `sp_token`, `sp_date`, `sp_reference`), never from the JSON, so a year of Tasks is aggregated
 * inside the database. One row per Task of the given codes:
 *
 * | column | from |
 * | --- | --- |
 * | `rid`, `id` | the Task |
 * | `status`, `priority`, `business_status` | Task.status, .priority, .businessStatus (the triage-status code) |
 * | `team` | the task-team extension (tasks/team.ts); else `owner` when it is an Organization; else the Organization of the PractitionerRole that owns it. `Organization/[id]`, or null |
 * | `patient`, `patient_id` | `Patient/[id]` of Task.for, and its id |
 * | `authored` | Task.authoredOn (receipt, for a triage Task) |
 * | `due` | Task.restriction.period.end (the published `due` parameter): the standard, however it was worked out (elapsed hours, working days) |
 * | `ended` | Task.executionPeriod.end: stamped at completion of a triage (triage-completion.ts) and at the end of a contact or attempt (outreach/outcome.ts) |
 *
 * Instants compare by the upper bound the index keeps (`hi`: the end of the second written), the
 * same for every column, so "ended at or before due" is exact to the second.
 */
export function taskFacts(p: SqlParams, codes: readonly string[]): string {
  return `SELECT r.rid, r.id,
      st.code AS status, pr.code AS priority, bs.code AS business_status,
      COALESCE('Organization/' || tm.target_id,
               CASE WHEN ow.target_type = 'Organization' THEN 'Organization/' || ow.target_id END,
               'Organization/' || po.target_id) AS team,
      'Patient/' || pt.target_id AS patient, pt.target_id AS patient_id,
      au.hi AS authored, du.hi AS due,
      CASE WHEN pe.hi < 'infinity' THEN pe.hi END AS ended
    FROM sp_token c
    JOIN resource r ON r.rid = c.rid AND NOT r.deleted
    LEFT JOIN sp_token st ON st.rid = r.rid AND st.type = 'Task' AND st.param = 'status'
    LEFT JOIN sp_token pr ON pr.rid = r.rid AND pr.type = 'Task' AND pr.param = 'priority'
    LEFT JOIN sp_token bs ON bs.rid = r.rid AND bs.type = 'Task' AND bs.param = 'business-status' AND bs.system = ${p.add(PATHWAY.triageStatus)}
    LEFT JOIN sp_reference tm ON tm.rid = r.rid AND tm.type = 'Task' AND tm.param = 'team' AND tm.target_type = 'Organization'
    LEFT JOIN sp_reference ow ON ow.rid = r.rid AND ow.type = 'Task' AND ow.param = 'owner'
    LEFT JOIN resource prr ON tm.target_id IS NULL AND ow.target_type = 'PractitionerRole' AND prr.type = 'PractitionerRole' AND prr.id = ow.target_id AND NOT prr.deleted
    LEFT JOIN sp_reference po ON po.rid = prr.rid AND po.type = 'PractitionerRole' AND po.param = 'organization' AND po.target_type = 'Organization'
    LEFT JOIN sp_reference pt ON pt.rid = r.rid AND pt.type = 'Task' AND pt.param = 'patient' AND pt.target_type = 'Patient'
    LEFT JOIN sp_date au ON au.rid = r.rid AND au.type = 'Task' AND au.param = 'authored-on'
    LEFT JOIN sp_date du ON du.rid = r.rid AND du.type = 'Task' AND du.param = 'due'
    LEFT JOIN sp_date pe ON pe.rid = r.rid AND pe.type = 'Task' AND pe.param = 'period'
    WHERE c.type = 'Task' AND c.param = 'code' AND c.system = ${p.add(PATHWAY.taskCode)} AND c.code = ANY(${p.add(codes, 'text[]')})`;
}

/**
 * When a Task first reached one of `statuses`, from its history (`resource_version`, every version
 * kept with the time it was written): for a decision that stamps no time of its own, such as an
 * escalation's. Read only for the Tasks of one code, by the history's primary key.
 */
export function firstReached(p: SqlParams, rid: string, statuses: readonly string[]): string {
  return `(SELECT min(v.last_updated) FROM resource_version v
    WHERE v.rid = ${rid} AND NOT v.deleted AND (v.content::jsonb ->> 'status') = ANY(${p.add(statuses, 'text[]')}))`;
}

/**
 * A crisis presentation of the patient `patientId` in the window (after, upTo]: a referral needing a same-day
 * response (its triage Task at priority stat or asap: a red flag, or urgency asked for that day)
 * or a same-day escalation (an escalation Task at stat or asap: a high-risk flag, a red flag at the
 * front door, an outreach ladder ending with risk indicators, or a clinician's). `except` is the
 * Task being measured, which is not a presentation of its own.
 */
export function crisisPresentation(p: SqlParams, patientId: string, after: string, upTo: string, except: string): string {
  return `EXISTS (SELECT 1 FROM sp_reference cp
      JOIN sp_token cc ON cc.rid = cp.rid AND cc.type = 'Task' AND cc.param = 'code' AND cc.system = ${p.add(PATHWAY.taskCode)} AND cc.code IN ('triage', 'escalation')
      JOIN sp_token cpr ON cpr.rid = cp.rid AND cpr.type = 'Task' AND cpr.param = 'priority' AND cpr.code IN ('stat', 'asap')
      JOIN sp_date ca ON ca.rid = cp.rid AND ca.type = 'Task' AND ca.param = 'authored-on'
      JOIN resource cr ON cr.rid = cp.rid AND NOT cr.deleted
      LEFT JOIN sp_token cst ON cst.rid = cp.rid AND cst.type = 'Task' AND cst.param = 'status'
     WHERE cp.type = 'Task' AND cp.param = 'patient' AND cp.target_type = 'Patient' AND cp.target_id = ${patientId}
       AND cp.rid <> ${except} AND ca.hi > ${after} AND ca.hi <= ${upTo}
       AND cst.code IS DISTINCT FROM 'entered-in-error')`;
}

/** Statuses of a Task that was never real work: withdrawn, or written in error. */
export const VOID_STATUSES = ['cancelled', 'entered-in-error'] as const;

/**
 * The facts of pathway Tasks the measures count (store/task-fact.ts, src/measures): one narrow row
 * per Task with a Stepwise task code. The measures over a year of a busy trust (500,000 referrals)
 * joined nine index rows per Task (sp_token, sp_date, sp_reference) and took 3 s per 100,000 Tasks;
 * one range of this table is what they read now. Written and deleted with the other index rows.
 * Filled here from the index rows already stored, as the write path fills it; `status_since` from
 * the history (the first version of the last run of versions with the current status).
 */
import { CONTACT_OUTCOME_SYSTEM, TASK_CODE_SYSTEM, TRIAGE_STATUS_SYSTEM } from '../task-fact.js';

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

export const sql = `
CREATE TABLE task_fact (
  rid              bigint NOT NULL,
  id               text COLLATE "C" NOT NULL,
  code             text COLLATE "C" NOT NULL,
  status           text COLLATE "C",
  priority         text COLLATE "C",
  business_status  text COLLATE "C",
  team             text COLLATE "C",
  owner_type       text COLLATE "C",
  owner_id         text COLLATE "C",
  patient          text COLLATE "C",
  part_of          text COLLATE "C",
  outcome          text COLLATE "C",
  authored         timestamptz,
  due              timestamptz,
  ended            timestamptz,
  status_since     timestamptz NOT NULL,
  created          timestamptz NOT NULL
);
-- not a primary key: an update deletes and inserts a Task's index rows in one statement
CREATE INDEX task_fact_rid ON task_fact (rid);
CREATE INDEX task_fact_authored ON task_fact (code, authored);
CREATE INDEX task_fact_due ON task_fact (code, due);
CREATE INDEX task_fact_ended ON task_fact (code, ended);
CREATE INDEX task_fact_patient ON task_fact (patient, authored) WHERE patient IS NOT NULL;
CREATE INDEX task_fact_part_of ON task_fact (part_of) WHERE part_of IS NOT NULL;

INSERT INTO task_fact (rid, id, code, status, priority, business_status, team, owner_type, owner_id, patient, part_of, outcome, authored, due, ended, status_since, created)
SELECT c.rid, min(res.id), min(c.code),
  (SELECT min(t.code) FROM sp_token t WHERE t.rid = c.rid AND t.param = 'status'),
  (SELECT min(t.code) FROM sp_token t WHERE t.rid = c.rid AND t.param = 'priority'),
  (SELECT min(t.code) FROM sp_token t WHERE t.rid = c.rid AND t.param = 'business-status' AND t.system = ${quote(TRIAGE_STATUS_SYSTEM)}),
  (SELECT min(r.target_id) FROM sp_reference r WHERE r.rid = c.rid AND r.param = 'team' AND r.target_type = 'Organization'),
  (SELECT min(r.target_type) FROM sp_reference r WHERE r.rid = c.rid AND r.param = 'owner' AND r.target_id IS NOT NULL),
  (SELECT min(r.target_id) FROM sp_reference r WHERE r.rid = c.rid AND r.param = 'owner'),
  (SELECT min(r.target_id) FROM sp_reference r WHERE r.rid = c.rid AND r.param = 'patient' AND r.target_type = 'Patient'),
  (SELECT min(r.target_id) FROM sp_reference r WHERE r.rid = c.rid AND r.param = 'part-of' AND r.target_type = 'Task'),
  -- contact-outcome is a new search parameter: what Tasks written before it say, from their JSON
  (SELECT min(cd ->> 'code') FROM jsonb_array_elements(COALESCE(res.content::jsonb -> 'output', '[]')) o, jsonb_array_elements(COALESCE(o -> 'valueCodeableConcept' -> 'coding', '[]')) cd
    WHERE o -> 'type' -> 'coding' @> '[{"code": "contact-outcome"}]' AND cd ->> 'system' = ${quote(CONTACT_OUTCOME_SYSTEM)}),
  COALESCE((SELECT min(d.hi) FROM sp_date d WHERE d.rid = c.rid AND d.param = 'authored-on'), (SELECT min(v.last_updated) FROM resource_version v WHERE v.rid = c.rid), min(res.last_updated)),
  (SELECT min(d.hi) FROM sp_date d WHERE d.rid = c.rid AND d.param = 'due'),
  (SELECT min(d.hi) FROM sp_date d WHERE d.rid = c.rid AND d.param = 'period' AND d.hi < 'infinity'),
  -- when the current status was entered: the first version of the unbroken run with it at the end of the history
  COALESCE((SELECT min(v.last_updated) FROM resource_version v
     WHERE v.rid = c.rid AND v.content IS NOT NULL AND (v.content::jsonb ->> 'status') = (SELECT min(t.code) FROM sp_token t WHERE t.rid = c.rid AND t.param = 'status')
       AND NOT EXISTS (SELECT 1 FROM resource_version w WHERE w.rid = c.rid AND w.version_id > v.version_id AND w.content IS NOT NULL
         AND (w.content::jsonb ->> 'status') IS DISTINCT FROM (v.content::jsonb ->> 'status'))), min(res.last_updated)),
  COALESCE((SELECT min(v.last_updated) FROM resource_version v WHERE v.rid = c.rid), min(res.last_updated))
FROM sp_token c JOIN resource res ON res.rid = c.rid AND NOT res.deleted
WHERE c.type = 'Task' AND c.param = 'code' AND c.system = ${quote(TASK_CODE_SYSTEM)} AND c.code IS NOT NULL
GROUP BY c.rid, res.rid
`;

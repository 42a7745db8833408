import { CARING_TEAM_STATUSES, OPEN_TASK_STATUSES, PATIENT_COMPARTMENT_PARAMS } from '../compartment-keys.js';

/**
 * Team compartments enforced inside the queries (issue 13, src/security/README.md).
 *
 * - `resource.compartments` (reserved in migration 1) now holds each resource's compartment keys
 *   (store/compartment-keys.ts): the patients whose compartment it is in, and for a Task its
 *   holders. Byte order ("C"), as every identifier column since migration 5, so it compares with
 *   `caseload` without a collation conflict.
 * - `caseload (rid, team, patient)`: which team has which person on its caseload, derived from
 *   open Tasks and caring CareTeams (`rid` is the Task or CareTeam), rewritten with their index
 *   rows. The check "is one of this row's patients on one of my teams' caseloads" is one probe
 *   of (patient, team) per key.
 *
 * Both are filled here from the index rows already stored, as the write path fills them.
 */
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
const list = (values: string[]) => values.map(quote).join(', ');
const compartmentParams = [...PATIENT_COMPARTMENT_PARAMS].flatMap(([type, params]) => [...params].map((param) => `(${quote(type)}, ${quote(param)})`)).join(', ');

export const sql = `
ALTER TABLE resource ALTER COLUMN compartments TYPE text[] COLLATE "C";

CREATE TABLE caseload (
  rid      bigint NOT NULL,
  team     text COLLATE "C" NOT NULL,
  patient  text COLLATE "C" NOT NULL
);
CREATE INDEX caseload_patient_team ON caseload (patient, team);
CREATE INDEX caseload_rid ON caseload (rid);

UPDATE resource r SET compartments = k.keys FROM (
  SELECT x.rid, array_agg(DISTINCT x.key) AS keys FROM (
    SELECT ref.rid, 'Patient/' || ref.target_id AS key
      FROM sp_reference ref JOIN (VALUES ${compartmentParams}) AS cp(type, param) ON cp.type = ref.type AND cp.param = ref.param
     WHERE ref.target_type = 'Patient' AND ref.target_id IS NOT NULL
    UNION ALL
    SELECT ref.rid, ref.target_type || '/' || ref.target_id FROM sp_reference ref
     WHERE ref.type = 'Task' AND ref.param IN ('team', 'owner') AND ref.target_type IS NOT NULL AND ref.target_id IS NOT NULL
    UNION ALL
    SELECT p.rid, 'Patient/' || p.id FROM resource p WHERE p.type = 'Patient'
  ) x GROUP BY x.rid
) k WHERE r.rid = k.rid;

INSERT INTO caseload (rid, team, patient)
SELECT DISTINCT t.rid, 'Organization/' || t.target_id, 'Patient/' || pt.target_id
  FROM sp_reference t
  JOIN sp_reference pt ON pt.rid = t.rid AND pt.param = 'patient' AND pt.target_type = 'Patient' AND pt.target_id IS NOT NULL
  JOIN sp_token s ON s.rid = t.rid AND s.param = 'status'
 WHERE t.type = 'Task' AND t.param IN ('team', 'owner') AND t.target_type = 'Organization' AND t.target_id IS NOT NULL
   AND s.code IN (${list(OPEN_TASK_STATUSES)})
UNION
SELECT t.rid, 'Organization/' || t.target_id, 'Patient/' || pt.target_id
  FROM sp_reference t
  JOIN sp_reference pt ON pt.rid = t.rid AND pt.param = 'patient' AND pt.target_type = 'Patient' AND pt.target_id IS NOT NULL
 WHERE t.type = 'CareTeam' AND t.param = 'participant' AND t.target_type = 'Organization' AND t.target_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM sp_token s WHERE s.rid = t.rid AND s.param = 'status')
UNION
SELECT t.rid, 'Organization/' || t.target_id, 'Patient/' || pt.target_id
  FROM sp_reference t
  JOIN sp_reference pt ON pt.rid = t.rid AND pt.param = 'patient' AND pt.target_type = 'Patient' AND pt.target_id IS NOT NULL
  JOIN sp_token s ON s.rid = t.rid AND s.param = 'status'
 WHERE t.type = 'CareTeam' AND t.param = 'participant' AND t.target_type = 'Organization' AND t.target_id IS NOT NULL
   AND s.code IN (${list(CARING_TEAM_STATUSES)})
`;

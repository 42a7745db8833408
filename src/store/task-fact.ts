import { STEPWISE_CANONICAL_BASE } from '../fhir/canonical.js';
import type { IndexRows } from '../fhir/search/extract.js';
import type { SqlParams } from './sql.js';

/**
 * The task_fact table (migration 021): one narrow row per pathway Task (a Task.code of Stepwise's
 * task-code system) holding what the pathway measures count (src/measures), so a year of Tasks is
 * aggregated from one index range instead of a join per search parameter. Derived from the Task's
 * own index rows and written and deleted with them (index-writer.ts), like task_queue. `outcome`
 * is a contact's or attempt's outcome (the `contact-outcome` search parameter).
 *
 * Instants are the upper bound the index keeps for each (`hi`: the end of the second, or of the
 * millisecond, written), the same for every column, so comparing two of them is exact to the
 * precision they were written with. `status_since` is when the Task entered its current status:
 * the lastUpdated of the first version with it (kept from the previous fact while the status
 * stays), so when a decision was made is known without reading the history; `created` is when
 * the Task was first written, and `authored` is Task.authoredOn or, for a Task without one (a
 * clinician's own escalation), `created`.
 */
export const TASK_FACT_TABLE = 'task_fact';

export const TASK_CODE_SYSTEM = `${STEPWISE_CANONICAL_BASE}/CodeSystem/task-code`;
export const TRIAGE_STATUS_SYSTEM = `${STEPWISE_CANONICAL_BASE}/CodeSystem/triage-status`;
export const CONTACT_OUTCOME_SYSTEM = `${STEPWISE_CANONICAL_BASE}/CodeSystem/contact-outcome`;

interface FactRow {
  id: string;
  code: string;
  status: string | null;
  priority: string | null;
  businessStatus: string | null;
  team: string | null;
  ownerType: string | null;
  ownerId: string | null;
  patient: string | null;
  partOf: string | null;
  outcome: string | null;
  authored: string | null;
  due: string | null;
  ended: string | null;
}

/** The fact of one resource: none unless it is a Task with a Stepwise task code. */
export function taskFactOf(type: string, id: string, rows: IndexRows): FactRow | undefined {
  if (type !== 'Task') return undefined;
  const code = rows.token.find((t) => t.param === 'code' && t.system === TASK_CODE_SYSTEM && t.code)?.code;
  if (!code) return undefined;
  const token = (param: string, system?: string) => rows.token.find((t) => t.param === param && (!system || t.system === system))?.code ?? null;
  const ref = (param: string, targetType?: string) => rows.reference.find((r) => r.param === param && r.targetId && (!targetType || r.targetType === targetType));
  const hi = (param: string) => {
    const d = rows.date.find((x) => x.param === param);
    return d && Number.isFinite(d.hi.getTime()) ? d.hi.toISOString() : null;
  };
  const owner = ref('owner');
  return {
    id,
    code,
    status: token('status'),
    priority: token('priority'),
    businessStatus: token('business-status', TRIAGE_STATUS_SYSTEM),
    team: ref('team', 'Organization')?.targetId ?? null,
    ownerType: owner?.targetType ?? null,
    ownerId: owner?.targetId ?? null,
    patient: ref('patient', 'Patient')?.targetId ?? null,
    partOf: ref('part-of', 'Task')?.targetId ?? null,
    outcome: token('contact-outcome', CONTACT_OUTCOME_SYSTEM),
    authored: hi('authored-on'),
    due: hi('due'),
    ended: hi('period'),
  };
}

const COLUMNS: [column: string, cast: string, key: keyof FactRow][] = [
  ['id', 'text', 'id'],
  ['code', 'text', 'code'],
  ['status', 'text', 'status'],
  ['priority', 'text', 'priority'],
  ['business_status', 'text', 'businessStatus'],
  ['team', 'text', 'team'],
  ['owner_type', 'text', 'ownerType'],
  ['owner_id', 'text', 'ownerId'],
  ['patient', 'text', 'patient'],
  ['part_of', 'text', 'partOf'],
  ['outcome', 'text', 'outcome'],
  ['authored', 'timestamptz', 'authored'],
  ['due', 'timestamptz', 'due'],
  ['ended', 'timestamptz', 'ended'],
];

/** The INSERT (a CTE part of the write statement) of the facts of `resources`, if any is a pathway Task. */
export function taskFactInsert(resources: { ord: number; type: string; id: string; lastUpdated: string; rows: IndexRows }[], ridsCte: string, p: SqlParams): string | undefined {
  const list = resources.flatMap((r) => {
    const fact = taskFactOf(r.type, r.id, r.rows);
    return fact ? [{ ...fact, ord: r.ord, lastUpdated: r.lastUpdated }] : [];
  });
  if (list.length === 0) return undefined;
  const names = COLUMNS.map(([c]) => c);
  const arrays = [p.add(list.map((x) => x.ord), 'int[]'), ...COLUMNS.map(([, cast, key]) => p.add(list.map((x) => x[key]), `${cast}[]`))];
  const at = p.add(list.map((x) => x.lastUpdated), 'timestamptz[]');
  // every part of one statement sees the rows as they were before it, so the previous fact is
  // still readable here while a sibling part deletes it
  const created = `COALESCE((SELECT min(old.created) FROM ${TASK_FACT_TABLE} old WHERE old.rid = n.rid), u.last_updated)`;
  return `INSERT INTO ${TASK_FACT_TABLE} (rid, ${names.join(', ')}, status_since, created)
    SELECT n.rid, ${names.map((c) => (c === 'authored' ? `COALESCE(u.authored, ${created})` : `u.${c}`)).join(', ')},
      COALESCE((SELECT min(old.status_since) FROM ${TASK_FACT_TABLE} old WHERE old.rid = n.rid AND old.status IS NOT DISTINCT FROM u.status), u.last_updated),
      ${created}
    FROM unnest(${arrays.join(', ')}, ${at}) AS u(ord, ${names.join(', ')}, last_updated) JOIN ${ridsCte} n ON n.ord = u.ord`;
}

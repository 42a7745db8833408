import type { IndexRows } from '../fhir/search/extract.js';
import type { Filter, SearchQuery } from '../fhir/search/query.js';
import type { Cursor } from './keyset.js';
import type { SqlParams } from './sql.js';

/**
 * The task_queue table (migration 008): for each Task and each holder it names (`owner`, the
 * `team` extension), the keys a work queue filters and sorts on. Derived from the Task's own index
 * rows, so its order is the generic search's order for `_sort=priority-rank,due`.
 */
export const TASK_QUEUE_TABLE = 'task_queue';

/** The search parameters whose single reference target a queue is walked by. */
const HOLDERS = new Set(['owner', 'team']);

/** The sort a queue walk serves: `_sort=priority-rank,due`, most urgent first, then earliest due. */
const QUEUE_SORT = ['priority-rank', 'due'];

/**
 * Every value `priority-rank` can take (its SearchParameter maps stat, asap, urgent, routine to
 * 1-4), and 'NaN' for a Task without a priority, which sorts after them as NULL does. Each
 * (holder, status, rank) is one ordered index range, so a due-time bound (overdue) stays a range.
 */
const RANKS = ['1', '2', '3', '4', 'NaN'];

/** Every Task status (R4 task-status, a required binding): the walk's statuses when none is asked. */
const STATUSES = ['draft', 'requested', 'received', 'accepted', 'rejected', 'ready', 'cancelled', 'in-progress', 'on-hold', 'failed', 'completed', 'entered-in-error'];

interface QueueRow {
  param: string;
  targetType: string | null;
  targetId: string;
  status: string;
  rank: string;
  due: string;
}

/** The task_queue rows of one resource (none unless it is a Task with a status and a holder). */
export function taskQueueRows(type: string, rows: IndexRows): QueueRow[] {
  if (type !== 'Task') return [];
  const status = rows.token.find((t) => t.param === 'status')?.code;
  if (!status) return [];
  const ranks = rows.number.filter((n) => n.param === 'priority-rank').map((n) => Number(n.value));
  const dues = rows.date.filter((d) => d.param === 'due').map((d) => d.lo.getTime());
  const rank = ranks.length ? String(Math.min(...ranks)) : 'NaN';
  const due = dues.length ? new Date(Math.min(...dues)).toISOString() : 'infinity';
  return rows.reference
    .filter((r) => HOLDERS.has(r.param) && r.targetId)
    .map((r) => ({ param: r.param, targetType: r.targetType, targetId: r.targetId!, status, rank, due }));
}

/** The INSERT (a CTE part of the write statement) of the queue rows of `resources`, if they have any. */
export function taskQueueInsert(resources: { ord: number; type: string; rows: IndexRows }[], ridsCte: string, p: SqlParams): string | undefined {
  const list = resources.flatMap((r) => taskQueueRows(r.type, r.rows).map((q) => ({ ...q, ord: r.ord })));
  if (list.length === 0) return undefined;
  const col = <K extends keyof (typeof list)[number]>(k: K, cast: string) => p.add(list.map((x) => x[k]), cast);
  return `INSERT INTO ${TASK_QUEUE_TABLE} (rid, param, target_type, target_id, status, rank, due)
    SELECT n.rid, u.param, u.target_type, u.target_id, u.status, u.rank, u.due
    FROM unnest(${col('ord', 'int[]')}, ${col('param', 'text[]')}, ${col('targetType', 'text[]')}, ${col('targetId', 'text[]')}, ${col('status', 'text[]')}, ${col('rank', 'numeric[]')}, ${col('due', 'timestamptz[]')})
      AS u(ord, param, target_type, target_id, status, rank, due) JOIN ${ridsCte} n ON n.ord = u.ord`;
}

/** What a queue walk replaces of a search: the filters it serves from task_queue itself. */
export interface QueueWalk {
  holder: Extract<Filter, { kind: 'param' }>;
  status?: Extract<Filter, { kind: 'param' }>;
  /** `due=lt…`: an upper bound on the due time, a range inside each (status, rank). */
  dueBefore?: { filter: Filter; before: Date };
  served: Set<Filter>;
}

/**
 * Whether a search is a work queue task_queue can walk: Task, `_sort=priority-rank,due`, one
 * holder (`owner` or `team`) with a single local target, and at most one plain `status`
 * criterion. Anything else is left to the generic search.
 */
export function queueWalkFor(query: SearchQuery): QueueWalk | undefined {
  if (query.resourceType !== 'Task') return undefined;
  if (query.sort.length !== QUEUE_SORT.length || query.sort.some((s, i) => s.code !== QUEUE_SORT[i] || s.descending)) return undefined;
  const params = query.filters.filter((f): f is Extract<Filter, { kind: 'param' }> => f.kind === 'param');
  const holder = params.find((f) => HOLDERS.has(f.param.code) && !f.modifier && f.values.length === 1 && f.values[0].kind === 'reference' && !!f.values[0].id && !f.values[0].url);
  if (!holder) return undefined;
  const statuses = params.filter((f) => f.param.code === 'status');
  if (statuses.length > 1) return undefined;
  const status = statuses[0];
  if (status && (status.modifier || status.values.some((v) => v.kind !== 'token' || v.system !== undefined || !v.code))) return undefined;
  const served = new Set<Filter>([holder, ...(status ? [status] : [])]);
  // Task.restriction.period.end is 0..1, so "some due value is before X" is "its due time is before X"
  const dues = params.filter((f) => f.param.code === 'due');
  const lt = dues.length === 1 && !dues[0].modifier && dues[0].values.length === 1 && dues[0].values[0].kind === 'date' && dues[0].values[0].prefix === 'lt' ? dues[0].values[0] : undefined;
  const dueBefore = lt?.kind === 'date' ? { filter: dues[0], before: lt.range.lo } : undefined;
  if (dueBefore) served.add(dueBefore.filter);
  return { holder, status, dueBefore, served };
}

/**
 * The SQL of one page of a queue walk, with columns rid, content, k0 (rank), k1 (due) in page
 * order. One index probe per (status, rank), each giving at most `limit` rows in due order from
 * after the cursor; the probes' rows are merged and the first `limit` kept. `others` are the
 * search's remaining conditions on the resource row `a`.
 */
export function queueWalkSql(walk: QueueWalk, others: string[], cursor: Cursor | undefined, limit: number, p: SqlParams): string {
  const backwards = cursor?.dir === 'before';
  const dir = backwards ? 'DESC' : 'ASC';
  const ref = walk.holder.values[0] as { type?: string; id: string };
  const statuses = walk.status ? walk.status.values.map((v) => (v as { code: string }).code) : STATUSES;
  const conds = [
    `d.param = ${p.add(walk.holder.param.code)}`,
    `d.target_id = ${p.add(ref.id)}`,
    ...(ref.type ? [`d.target_type = ${p.add(ref.type)}`] : []),
    'd.status = s.status',
    'd.rank = r.rank',
    ...(walk.dueBefore ? [`d.due < ${p.add(walk.dueBefore.before.toISOString(), 'timestamptz')}`] : []),
    ...(cursor ? [`(d.rank, d.due, d.rid) ${backwards ? '<' : '>'} (${p.add(cursor.keys[0], 'numeric')}, ${p.add(cursor.keys[1], 'timestamptz')}, ${p.add(cursor.rid, 'bigint')})`] : []),
    ...others,
  ];
  const join = others.length ? ' JOIN resource a ON a.rid = d.rid' : '';
  const order = (t: string) => `${t}.rank ${dir}, ${t}.due ${dir}, ${t}.rid ${dir}`;
  return `SELECT page.rid::text AS rid, c.content, page.rank::text AS k0, page.due::text AS k1 FROM (
      SELECT w.rid, w.rank, w.due
      FROM unnest(${p.add(statuses, 'text[]')}) AS s(status)
      CROSS JOIN unnest(${p.add(RANKS, 'numeric[]')}) AS r(rank)
      CROSS JOIN LATERAL (
        SELECT d.rid, d.rank, d.due FROM ${TASK_QUEUE_TABLE} d${join}
        WHERE ${conds.join(' AND ')}
        ORDER BY d.due ${dir}, d.rid ${dir} LIMIT ${limit}
      ) w
      ORDER BY ${order('w')} LIMIT ${limit}
    ) page JOIN resource c ON c.rid = page.rid
    ORDER BY ${order('page')}`;
}

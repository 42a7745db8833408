/**
 * Work queues ordered by priority then due time (`_sort=priority-rank,due`), walked from an index.
 *
 * The generic search sorts by sub-selects over sp_number and sp_date, so every queue page sorted
 * all of a team's Tasks first: ~370 ms at 50,000 open Tasks. `task_queue` keeps, for each Task and
 * each holder it names (`owner`, and the `team` extension), the keys a queue filters and sorts on:
 * holder, status, priority rank, due time. The index (param, target_id, status, rank, due, rid)
 * gives one ordered range per (holder, status, rank), so a page is a few short index probes
 * merged, and the next page starts where the last one ended (keyset), whatever the queue's size.
 *
 * A Task with no priority or no due time sorts last, as a NULL does in the generic search: its
 * rank is stored as 'NaN' (above every number) and its due time as 'infinity', so the keys are
 * never NULL and a row comparison (rank, due, rid) > (…) can bound the index range.
 * Rows are written and deleted with the other index rows (store/index-writer.ts, task-queue.ts).
 */
export const sql = `
CREATE TABLE task_queue (
  rid          bigint      NOT NULL,
  param        text COLLATE "C" NOT NULL,
  target_type  text COLLATE "C",
  target_id    text COLLATE "C" NOT NULL,
  status       text COLLATE "C" NOT NULL,
  rank         numeric     NOT NULL,
  due          timestamptz NOT NULL
);
CREATE INDEX task_queue_walk ON task_queue (param, target_id, status, rank, due, rid) INCLUDE (target_type);
CREATE INDEX task_queue_rid ON task_queue (rid);
INSERT INTO task_queue (rid, param, target_type, target_id, status, rank, due)
  SELECT DISTINCT ref.rid, ref.param, ref.target_type, ref.target_id, st.code,
    coalesce((SELECT min(n.value) FROM sp_number n WHERE n.rid = ref.rid AND n.param = 'priority-rank'), 'NaN'),
    coalesce((SELECT min(d.lo) FROM sp_date d WHERE d.rid = ref.rid AND d.param = 'due'), 'infinity')
  FROM sp_reference ref
  JOIN sp_token st ON st.rid = ref.rid AND st.param = 'status' AND st.type = 'Task'
  JOIN resource r ON r.rid = ref.rid AND NOT r.deleted
  WHERE ref.type = 'Task' AND ref.param IN ('owner', 'team') AND ref.target_id IS NOT NULL AND st.code IS NOT NULL
`;

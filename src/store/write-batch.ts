import type { Queryable } from './database.js';
import { SqlParams } from './sql.js';

/**
 * One SQL statement built from data-modifying CTEs (https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING).
 * A single statement is atomic on its own, so a batch needs no BEGIN/COMMIT and costs one round
 * trip: on this kind of machine every round trip is a pair of expensive system calls on each
 * side, and writing a message's eleven resources, its triage Tasks, its audit record and its log
 * row in one statement is what lets messaging keep up.
 *
 * Parts may be gated on an earlier CTE (`WHERE EXISTS (SELECT 1 FROM log)`): all CTEs see one
 * snapshot and run once, so a gate that inserts nothing (ON CONFLICT DO NOTHING) makes every
 * gated part write nothing.
 */
export class WriteBatch {
  readonly params = new SqlParams();
  private readonly ctes: string[] = [];
  private readonly names = new Set<string>();

  /** Adds `name AS (sql)`; `sql` gets its placeholders from `params`. */
  with(name: string, sql: (p: SqlParams) => string): this {
    if (this.names.has(name)) throw new Error(`WriteBatch: CTE ${name} given twice`);
    this.names.add(name);
    this.ctes.push(`${name} AS (${sql(this.params)})`);
    return this;
  }

  /** A name not used yet in this batch, for parts added more than once (`r1`, `r2`, …). */
  fresh(prefix: string): string {
    for (let i = 1; ; i++) if (!this.names.has(`${prefix}${i}`)) return `${prefix}${i}`;
  }

  get empty(): boolean {
    return this.ctes.length === 0;
  }

  /** Runs the statement, ending in `select` (which may read the CTEs' RETURNING rows). */
  async run<T = Record<string, unknown>>(q: Queryable, select = 'SELECT 1'): Promise<T[]> {
    if (this.empty) return [];
    // The text depends on the shape of the batch, not its values: a few dozen shapes in practice,
    // each kept parsed and planned per connection.
    return q.query<T>(`WITH ${this.ctes.join(',\n')}\n${select}`, this.params.values, { prepare: true });
  }
}

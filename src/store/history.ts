import type { Compartment } from './compartment.js';
import type { Queryable } from './database.js';
import { decodeCursor, encodeCursor } from './keyset.js';
import type { StoredVersion } from './resource-store.js';
import { SqlParams } from './sql.js';
import { parseStored } from './stored-json.js';

export interface HistoryOptions {
  type?: string;
  id?: string;
  since?: Date;
  count: number;
  cursor?: string;
}

export interface HistoryEntry extends StoredVersion {
  method: string;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  total?: number;
  next?: string;
}

interface Row {
  type: string;
  id: string;
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  method: string;
  content: string | null;
  seq: string;
}

/**
 * Instance, type and system history, newest first (http://hl7.org/fhir/R4/http.html#history).
 * Pages continue from the last version shown, so versions written meanwhile do not shift them.
 * With a compartment, a resource's versions are seen as the resource is now (its current row's
 * compartment keys decide for every version): a Task handed to another team takes its past with it.
 */
export async function runHistory(q: Queryable, opts: HistoryOptions, compartment?: Compartment): Promise<HistoryPage> {
  const p = new SqlParams();
  const where: string[] = [];
  if (opts.type) where.push(`v.type = ${p.add(opts.type)}`);
  if (opts.id) where.push(`v.id = ${p.add(opts.id)}`);
  if (opts.since) where.push(`v.last_updated >= ${p.add(opts.since.toISOString(), 'timestamptz')}`);
  if (compartment) where.push(`EXISTS (SELECT 1 FROM resource a WHERE a.rid = v.rid AND ${compartment.visible('a', p, opts.type)})`);
  const countWhere = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const totalRows = opts.id ? await q.query<{ n: string }>(`SELECT count(*) AS n FROM resource_version v ${countWhere}`, p.values) : undefined;
  if (opts.cursor) {
    const c = decodeCursor(opts.cursor);
    where.push(`(v.last_updated, v.seq) < (${p.add(c.keys[0], 'timestamptz')}, ${p.add(c.rid, 'bigint')})`);
  }
  const rows = await q.query<Row>(
    `SELECT v.type, v.id, v.version_id, v.last_updated, v.deleted, v.method, v.content, v.seq::text AS seq, v.last_updated::text AS at FROM resource_version v
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY v.last_updated DESC, v.seq DESC LIMIT ${opts.count + 1}`,
    p.values,
  );
  const shown = rows.slice(0, opts.count);
  const last = shown[shown.length - 1] as (Row & { at: string }) | undefined;
  return {
    entries: shown.map((r) => ({
      type: r.type,
      id: r.id,
      versionId: r.version_id,
      lastUpdated: new Date(r.last_updated),
      deleted: r.deleted,
      method: r.method,
      resource: r.content ? parseStored(r.content) : undefined,
    })),
    total: totalRows ? Number(totalRows[0].n) : undefined,
    next: rows.length > opts.count && last ? encodeCursor({ dir: 'after', keys: [last.at], rid: last.seq }) : undefined,
  };
}

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
 */
export async function runHistory(q: Queryable, opts: HistoryOptions): Promise<HistoryPage> {
  const p = new SqlParams();
  const where: string[] = [];
  if (opts.type) where.push(`type = ${p.add(opts.type)}`);
  if (opts.id) where.push(`id = ${p.add(opts.id)}`);
  if (opts.since) where.push(`last_updated >= ${p.add(opts.since.toISOString(), 'timestamptz')}`);
  const countWhere = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const totalRows = opts.id ? await q.query<{ n: string }>(`SELECT count(*) AS n FROM resource_version ${countWhere}`, p.values) : undefined;
  if (opts.cursor) {
    const c = decodeCursor(opts.cursor);
    where.push(`(last_updated, seq) < (${p.add(c.keys[0], 'timestamptz')}, ${p.add(c.rid, 'bigint')})`);
  }
  const rows = await q.query<Row>(
    `SELECT type, id, version_id, last_updated, deleted, method, content, seq::text AS seq, last_updated::text AS at FROM resource_version
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_updated DESC, seq DESC LIMIT ${opts.count + 1}`,
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

import type { Resource } from '@medplum/fhirtypes';
import { extractIndexRows } from '../../fhir/search/extract.js';
import { compartmentKeys } from '../compartment-keys.js';
import type { Queryable } from '../database.js';

/**
 * Compartment keys for resources deleted before migration 12. That migration filled
 * `resource.compartments` from the search index, which a deletion empties, so a resource deleted
 * earlier kept no keys and its history (old versions, still readable by vread and `_history`) was
 * visible only to those who see everything. A deletion since keeps its keys. Here each such
 * resource gets the keys of its last version with content, worked out as the write path does.
 *
 * Provenances get theirs again too: they now keep their targets as keys (compartment-keys.ts), so
 * whoever sees a Task, care plan or Flag sees the Provenances about it.
 */
export const sql = '';

const BATCH = 500;
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function more(tx: Queryable): Promise<string[]> {
  const rows = await tx.query<{ rid: string; type: string; id: string; content: string }>(
    `SELECT r.rid::text AS rid, r.type, r.id, v.content FROM resource r
       JOIN LATERAL (SELECT content FROM resource_version v WHERE v.rid = r.rid AND v.content IS NOT NULL ORDER BY v.version_id DESC LIMIT 1) v ON true
      WHERE (r.deleted AND (r.compartments IS NULL OR cardinality(r.compartments) = 0)) OR r.type = 'Provenance'`,
  );
  const keyed = rows.flatMap((r) => {
    const keys = compartmentKeys(r.type, r.id, extractIndexRows(JSON.parse(r.content) as Resource));
    return keys.length ? [{ rid: r.rid, keys }] : [];
  });
  const statements: string[] = [];
  for (let i = 0; i < keyed.length; i += BATCH) {
    const values = keyed
      .slice(i, i + BATCH)
      .map((k) => `(${k.rid}::bigint, ARRAY[${k.keys.map(quote).join(', ')}]::text[])`)
      .join(', ');
    statements.push(`UPDATE resource r SET compartments = u.keys FROM (VALUES ${values}) AS u(rid, keys) WHERE r.rid = u.rid`);
  }
  return statements;
}

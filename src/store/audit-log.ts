import { randomUUID } from 'node:crypto';
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import type { Filter, FilterValue, SearchQuery } from '../fhir/search/query.js';
import type { Queryable } from './database.js';
import { decodeCursor, encodeCursor, fitCursor, invalidCursor, withCursor } from './keyset.js';
import type { SearchPage } from './search.js';
import { SqlParams } from './sql.js';
import { formatFhirJson, parseStored } from './stored-json.js';
import type { Compartment } from './compartment.js';
import type { WriteBatch } from './write-batch.js';

/**
 * The audit trail (table audit_event, migration 10): AuditEvents are appended, never changed, and
 * read and searched as FHIR AuditEvents through the store like any other type. Each row keeps the
 * columns the searches an auditor makes need; the rest stays in the resource's JSON.
 */

/** An AuditEvent as it is kept: its own id, one version, lastUpdated its recorded time. */
export function asKept(event: AuditEvent, id: string = randomUUID()): AuditEvent & { id: string } {
  const { resourceType, id: _given, meta, ...rest } = event;
  return { resourceType, id, meta: { ...(meta ?? {}), versionId: '1', lastUpdated: new Date(event.recorded).toISOString() }, ...rest };
}

/** Adds the insert of `events` to a batch statement (gated on `when`, a condition over its CTEs). Returns them as kept. */
export function addAuditInserts(batch: WriteBatch, events: Resource[], when?: string, keepIds = false): (AuditEvent & { id: string })[] {
  if (events.length === 0) return [];
  const kept = events.map((e) => asKept(e as AuditEvent, keepIds && e.id ? e.id : undefined));
  const rows = kept.map(rowOf);
  batch.with(batch.fresh('audit'), (p) => {
    const col = (f: (r: AuditRow) => unknown, cast: string) => p.add(rows.map(f), cast);
    const entities = p.add(JSON.stringify(rows.map((r) => r.entity)), 'jsonb');
    return `INSERT INTO audit_event (id, recorded, patient, agent, entity, subtype, action, outcome, content)
      SELECT u.id, u.recorded, u.patient, u.agent, ARRAY(SELECT jsonb_array_elements_text(${entities} -> (u.ord::int - 1))), u.subtype, u.action, u.outcome, u.content
        FROM unnest(${col((r) => r.id, 'text[]')}, ${col((r) => r.recorded, 'timestamptz[]')}, ${col((r) => r.patient, 'text[]')}, ${col((r) => r.agent, 'text[]')},
                    ${col((r) => r.subtype, 'text[]')}, ${col((r) => r.action, 'text[]')}, ${col((r) => r.outcome, 'text[]')}, ${col((r) => r.content, 'text[]')})
             WITH ORDINALITY AS u(id, recorded, patient, agent, subtype, action, outcome, content, ord)${when ? ` WHERE ${when}` : ''}`;
  });
  return kept;
}

interface AuditRow {
  id: string;
  recorded: string;
  patient: string | null;
  agent: string | null;
  entity: string[];
  subtype: string | null;
  action: string | null;
  outcome: string | null;
  content: string;
}

/** The searchable columns of an AuditEvent: its patient, its requesting agent, the resources it names (without version). */
function rowOf(e: AuditEvent & { id: string }): AuditRow {
  const entities = e.entity ?? [];
  const requestor = e.agent?.find((a) => a.requestor) ?? e.agent?.[0];
  const who = requestor?.who;
  const identifier = who?.identifier?.system && who.identifier.value ? `${who.identifier.system}|${who.identifier.value}` : undefined;
  return {
    id: e.id,
    recorded: new Date(e.recorded).toISOString(),
    patient: entities.find((x) => x.role?.code === '1' && x.what?.reference)?.what?.reference ?? null,
    agent: who?.reference ?? identifier ?? who?.display ?? null,
    entity: [...new Set(entities.flatMap((x) => (x.what?.reference ? [x.what.reference.replace(/\/_history\/.*$/, '')] : [])))],
    subtype: e.subtype?.[0]?.code ?? null,
    action: e.action ?? null,
    outcome: e.outcome ?? null,
    content: formatFhirJson(e),
  };
}

export async function readAuditEvent(q: Queryable, id: string, compartment?: Compartment): Promise<AuditEvent | undefined> {
  const p = new SqlParams();
  const where = `e.id = ${p.add(id)}${compartment ? ` AND ${compartment.visibleAuditEvent('e', p)}` : ''}`;
  const rows = await q.query<{ content: string }>(`SELECT e.content FROM audit_event e WHERE ${where}`, p.values, { prepare: !compartment });
  return rows[0] ? (parseStored(rows[0].content) as AuditEvent) : undefined;
}

/**
 * A search of the audit trail: `patient`, `agent` (a reference, its display, or `agent:identifier`), `entity`, `date` (with prefixes),
 * `subtype`, `action`, `outcome` (codes), newest first, in keyset pages. Any other criterion is
 * refused rather than ignored: an auditor must never read a wider result than asked for.
 */
export async function searchAuditEvents(q: Queryable, query: SearchQuery, compartment?: Compartment): Promise<SearchPage> {
  const p = new SqlParams();
  const where = query.filters.map((f) => auditFilterSql(f, p));
  // a restricted principal reads the events about its caseload only (store/compartment.ts)
  if (compartment) where.push(compartment.visibleAuditEvent('audit_event', p));
  const page: SearchPage = { matches: [], included: [] };
  const countOnly = query.summary === 'count' || query.count === 0;
  if (query.total === 'accurate' || query.total === 'estimate' || countOnly) {
    const rows = await q.query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_event ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`, p.values);
    page.total = Number(rows[0].n);
  }
  if (countOnly) return page;
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (cursor && (cursor.dir !== 'after' || fitCursor(cursor, 1).keys[0] === null)) throw invalidCursor();
  if (cursor) where.push(`(recorded, seq) < (${p.add(cursor.keys[0], 'timestamptz')}, ${p.add(cursor.rid, 'bigint')})`);
  const rows = await withCursor(cursor, () =>
    q.query<{ seq: string; at: string; content: string }>(
      `SELECT seq::text AS seq, recorded::text AS at, content FROM audit_event ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY recorded DESC, seq DESC LIMIT ${query.count + 1}`,
      p.values,
    ),
  );
  const shown = rows.slice(0, query.count);
  page.matches = shown.map((r) => parseStored(r.content));
  const last = shown[shown.length - 1];
  if (rows.length > query.count && last) page.next = encodeCursor({ dir: 'after', keys: [last.at], rid: last.seq });
  if (page.total === undefined && query.total === undefined && !cursor && rows.length <= query.count) page.total = shown.length;
  return page;
}

const COLUMN: Record<string, { column: string; kind: 'reference' | 'token' | 'date' | 'entity' }> = {
  patient: { column: 'patient', kind: 'reference' },
  agent: { column: 'agent', kind: 'reference' },
  // the search parser gives `agent:identifier` as a parameter of its own
  'agent:identifier': { column: 'agent', kind: 'reference' },
  entity: { column: 'entity', kind: 'entity' },
  date: { column: 'recorded', kind: 'date' },
  subtype: { column: 'subtype', kind: 'token' },
  action: { column: 'action', kind: 'token' },
  outcome: { column: 'outcome', kind: 'token' },
};

function auditFilterSql(f: Filter, p: SqlParams): string {
  const spec = f.kind === 'param' && !f.modifier ? COLUMN[f.param.code] : undefined;
  if (!spec || f.kind !== 'param') {
    throw new FhirError(FhirErrorCode.INVALID, {
      code: 'not-supported',
      message: `AuditEvent is searched by ${Object.keys(COLUMN).join(', ')} (without other modifiers or chains)`,
      expression: f.param.code,
    });
  }
  const ors = f.values.map((v) => valueSql(spec.column, spec.kind, v, p));
  return `(${ors.join(' OR ')})`;
}

function valueSql(column: string, kind: (typeof COLUMN)[string]['kind'], v: FilterValue, p: SqlParams): string {
  if (v.kind === 'reference') {
    const ref = v.type && v.id ? `${v.type}/${v.id.replace(/\/_history\/.*$/, '')}` : (v.url ?? v.id ?? '');
    return kind === 'entity' ? `${column} @> ARRAY[${p.add(ref)}]::text[]` : `${column} = ${p.add(ref)}`;
  }
  // agent:identifier=system|value names the requesting agent by its identifier, as kept
  if (v.kind === 'token' && column === 'agent') return `${column} = ${p.add(`${v.system ?? ''}|${v.code ?? ''}`)}`;
  if (v.kind === 'token') return `${column} = ${p.add(v.code ?? '')}`;
  if (v.kind === 'string' || v.kind === 'uri') return kind === 'entity' ? `${column} @> ARRAY[${p.add(v.value)}]::text[]` : `${column} = ${p.add(v.value)}`;
  if (v.kind === 'date') {
    // only the bounds a prefix compares with become parameters (an unused one cannot be typed)
    const lo = () => p.add(v.range.lo.toISOString(), 'timestamptz');
    const hi = () => p.add(v.range.hi.toISOString(), 'timestamptz');
    switch (v.prefix) {
      case 'gt':
      case 'sa':
        return `${column} > ${hi()}`;
      case 'lt':
      case 'eb':
        return `${column} < ${lo()}`;
      case 'ge':
        return `${column} >= ${lo()}`;
      case 'le':
        return `${column} <= ${hi()}`;
      case 'ne':
        return `NOT (${column} BETWEEN ${lo()} AND ${hi()})`;
      default:
        return `${column} BETWEEN ${lo()} AND ${hi()}`;
    }
  }
  if (v.kind === 'missing') return `${column} IS ${v.missing ? '' : 'NOT '}NULL`;
  throw new FhirError(FhirErrorCode.INVALID, { code: 'not-supported', message: `This kind of value is not searched on AuditEvent.${column}`, expression: column });
}

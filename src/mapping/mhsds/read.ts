import { randomUUID } from 'node:crypto';
import type { Bundle, Extension, OperationOutcomeIssue, Reference, Resource } from '@medplum/fhirtypes';
import { MAPPED_FROM, type Mapped } from '../format.js';
import { partnerMappings } from '../mapping-data.js';
import { pruneEmpty, runStructureMap } from '../transform.js';
import { checkRow } from './defects.js';
import { attachLondonOffsets } from './london-time.js';
import { issue, rowPlace, type MhsdsRow } from './rows.js';
import { mhsdsTables, type MhsdsTable } from './tables.js';

/**
 * MHSDS rows into FHIR: each row is checked (defects.ts), then mapped by its table's StructureMap
 * (mappings/mhsds/maps/<table>-to-fhir.map) into the resource its key names: a row of an owning
 * table makes one, a row of a joining table (MHS002GP, MHS102, MHS009) fills its owner's. The
 * result is a `collection` whose resources refer to each other by business identifier.
 */
export function readMhsdsRows(rows: readonly MhsdsRow[]): Mapped<Bundle> {
  const tables = mhsdsTables();
  const { transformMaps } = partnerMappings('mhsds');
  const order = [...tables.keys()];
  const sorted = [...rows].sort((a, b) => order.indexOf(a.table) - order.indexOf(b.table) || a.index - b.index);
  const issues: OperationOutcomeIssue[] = [];
  const resources = new Map<string, Resource>();
  const joined = new Map<string, string>();
  const sources = new Map<string, string[]>();
  for (const source of sorted) {
    const table = tables.get(source.table)!;
    const checked = checkRow(source, table);
    issues.push(...checked.issues);
    const row = checked.row;
    const missing = table.key.filter((k) => row.fields[k] === undefined);
    if (missing.length) {
      issues.push(issue('error', 'required', rowPlace(row, missing[0]), `${rowPlace(row)} has no ${missing.join(', ')}, so it cannot be told which ${describe(table)} it is about; the row is not mapped`));
      continue;
    }
    const owner = table.into ? tables.get(table.into)! : table;
    const key = `${owner.name}:${table.key.map((k) => row.fields[k]).join('|')}`;
    const already = joined.get(`${table.name}:${key}`);
    if (already) {
      issues.push(issue('warning', 'duplicate', rowPlace(row), `${rowPlace(row)} says again which ${describe(table)} ${already} is about; only ${already} is mapped`));
      continue;
    }
    joined.set(`${table.name}:${key}`, rowPlace(row));
    let target = resources.get(key);
    if (!target) {
      // a joining row whose owner sent no row of its own: the owner's map makes the resource from the key
      const keyOnly = Object.fromEntries(table.key.map((k) => [k, row.fields[k]]));
      target = table.into ? runStructureMap(owner.toFhir, { type: owner.name, value: keyOnly }, { type: owner.resource, value: { resourceType: owner.resource } as Resource }, transformMaps) : ({ resourceType: table.resource } as Resource);
    }
    sources.set(key, [...(sources.get(key) ?? []), rowPlace(row)]);
    resources.set(key, runStructureMap(table.toFhir, { type: table.name, value: row.fields }, { type: table.resource, value: target }, transformMaps));
  }
  const keys = [...resources.keys()];
  const mapped = [...resources.values()].map((r) => pruneEmpty(attachLondonOffsets(r)));
  fillPersonFromReferral(mapped);
  return {
    result: {
      resourceType: 'Bundle',
      type: 'collection',
      entry: mapped.map((resource, i) => ({ extension: [mappedFrom(sources.get(keys[i])!)], fullUrl: `urn:uuid:${randomUUID()}`, resource })),
    },
    issues,
  };
}

/** The rows an entry was mapped from (`MHS101Referral[0], MHS102ServiceTypeReferredTo[0]`): where $ingest says what it did. */
const mappedFrom = (places: string[]): Extension => ({ url: MAPPED_FROM, valueString: places.join(', ') });

function describe(table: MhsdsTable): string {
  return table.key.includes('LocalPatientId') ? 'person' : table.key.includes('ServiceRequestId') ? 'referral' : table.resource;
}

const SERVICE_REQUEST_ID = (): string => mhsdsTables().get('MHS101Referral')!.identifier!;

/**
 * Step in code: "a record of a referral is about the referral's person". MHS201 and MHS106 name
 * only the referral; the person is the referral's subject, when the referral is in the same
 * payload (otherwise $ingest finds it in the store). A map reads one row: joining two is code.
 */
function fillPersonFromReferral(resources: Resource[]): void {
  const system = SERVICE_REQUEST_ID();
  const subjectOf = new Map<string, Reference>();
  for (const r of resources) {
    if (r.resourceType !== 'ServiceRequest' || !r.subject) continue;
    const id = r.identifier?.find((i) => i.system === system)?.value;
    if (id) subjectOf.set(id, r.subject);
  }
  for (const r of resources) {
    if (r.resourceType !== 'Task' && r.resourceType !== 'CarePlan') continue;
    const referral = (r.resourceType === 'Task' ? r.basedOn : r.supportingInfo)?.find((x) => x.type === 'ServiceRequest')?.identifier;
    const subject = referral?.system === system && referral.value ? subjectOf.get(referral.value) : undefined;
    if (!subject) continue;
    if (r.resourceType === 'Task' && !r.for) r.for = structuredClone(subject);
    if (r.resourceType === 'CarePlan' && !r.subject) r.subject = structuredClone(subject) as never;
  }
}

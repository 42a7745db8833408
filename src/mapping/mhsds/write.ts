import { evalFhirPath } from '@medplum/core';
import type { Bundle, Identifier, OperationOutcomeIssue, Reference, Resource } from '@medplum/fhirtypes';
import type { Mapped } from '../format.js';
import { partnerMappings } from '../mapping-data.js';
import { runStructureMap } from '../transform.js';
import { toLondonWallTime } from './london-time.js';
import { issue, type MhsdsRow } from './rows.js';
import { fieldsReadBy, mhsdsTables, type MhsdsTable } from './tables.js';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

/**
 * FHIR into MHSDS rows: each resource gives a row of every table of its type whose `when` it meets,
 * by that table's StructureMap (mappings/mhsds/maps/fhir-to-<table>.map); a joining table's row
 * takes its key from its owner's row and is left out when it would say nothing else. A resource no
 * table takes is reported. Resources written from the store refer by `Patient/123`: they are first
 * given the business identifiers the maps read (referByIdentifier).
 */
export function writeMhsdsRows(bundle: Bundle): Mapped<MhsdsRow[]> {
  const tables = [...mhsdsTables().values()];
  const { transformMaps } = partnerMappings('mhsds');
  const issues: OperationOutcomeIssue[] = [];
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  const prepared = referByIdentifier(resources.map((r) => identifyByServerId(r, tables)), tables);
  const rows: MhsdsRow[] = [];
  const counts = new Map<string, number>();
  prepared.forEach((resource, i) => {
    const mine = tables.filter((t) => t.resource === resource.resourceType && (!t.when || evalFhirPath(t.when, resource)[0] === true));
    if (mine.length === 0) {
      issues.push(issue('information', 'not-supported', `Bundle.entry[${i}].resource`, `${resource.resourceType}${resource.id ? `/${resource.id}` : ''} has no MHSDS v5 table; it is not written`));
      return;
    }
    // of the resource as sent (before it was given identifiers to refer by)
    const unwritten = elementsNoMapReads(resources[i], mine);
    if (unwritten.length) {
      issues.push(issue('information', 'not-supported', `Bundle.entry[${i}].resource`, `${resource.resourceType}${resource.id ? `/${resource.id}` : ''}: ${unwritten.join(', ')} ${unwritten.length === 1 ? 'has' : 'have'} no MHSDS v5 field; not written`));
    }
    issues.push(...retiredCodings(resources[i], `Bundle.entry[${i}].resource`));
    const local = toLondonWallTime(resource);
    const ownRows = new Map<string, Record<string, string>>();
    for (const table of mine) {
      const fields = textFields(runStructureMap(table.fromFhir, { type: resource.resourceType, value: local }, { type: table.name, value: {} as Record<string, unknown> }, transformMaps));
      if (table.into) {
        const owner = ownRows.get(table.into);
        if (!owner || Object.keys(fields).length === 0) continue;
        for (const k of table.key) if (owner[k] !== undefined) fields[k] = owner[k];
      } else {
        ownRows.set(table.name, fields);
        const missing = table.key.filter((k) => fields[k] === undefined);
        if (missing.length) issues.push(issue('warning', 'incomplete', `Bundle.entry[${i}].resource`, `The ${table.name} row of ${resource.resourceType}${resource.id ? `/${resource.id}` : ''} has no ${missing.join(', ')}`));
      }
      const index = counts.get(table.name) ?? 0;
      counts.set(table.name, index + 1);
      rows.push({ table: table.name, index, fields });
    }
  });
  return { result: rows, issues };
}

/** What every resource has that is no record's content, and what the maps to FHIR set as fixed (status, intent, a contact's code). */
const NOT_CONTENT = new Set(['resourceType', 'id', 'meta', 'text', 'status', 'intent', 'code']);

/**
 * The top-level elements of a resource that none of its tables' maps reads (read from the maps:
 * `src.<element>`), so that what MHSDS cannot carry is named rather than dropped silently. A choice
 * element (`deceased`) covers its typed names (`deceasedDateTime`).
 */
function elementsNoMapReads(resource: Resource, tables: readonly MhsdsTable[]): string[] {
  // what the maps read, what `when` reads to choose the table, and what a row implies (the person of its referral)
  const read = new Set(tables.flatMap((t) => [...fieldsReadBy(t.fromFhir), ...t.implied, ...(t.when ? [t.when.split('.')[0]] : [])]));
  const isRead = (key: string) => read.has(key) || [...read].some((el) => key.startsWith(el) && /^[A-Z]/.test(key.slice(el.length)));
  return Object.keys(resource).filter((key) => !NOT_CONTENT.has(key) && !key.startsWith('_') && !isRead(key));
}

/**
 * Step in code (the language cannot report): a coding from a code system the partner's folder
 * holds as retired (UK Core's old NHS number verification status, still sent by BaRS examples) is
 * a defect, named at its path; the map still translates it to the current code.
 */
function retiredCodings(resource: Resource, at: string): OperationOutcomeIssue[] {
  const retired = new Map(partnerMappings('mhsds').codeSystems.filter((c) => c.status === 'retired').map((c) => [c.url, c] as const));
  const found: OperationOutcomeIssue[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === 'object') {
      const coding = value as { system?: unknown; code?: unknown };
      const system = typeof coding.system === 'string' ? retired.get(coding.system) : undefined;
      if (system && typeof coding.code === 'string') {
        found.push(issue('warning', 'code-invalid', `${path}.system`, `${path}: '${coding.code}' is from ${system.title ?? system.url}, a retired code system (${system.url}); written as its current code`));
      }
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
    }
  };
  walk(resource, at);
  return found;
}

function textFields(row: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) if (v !== undefined && v !== null && v !== '') out[k] = String(v);
  return out;
}

/** The business identifier system of each resource type an owning table makes (Patient: LocalPatientId…). */
function identifierSystems(tables: readonly MhsdsTable[]): Map<string, string> {
  return new Map(tables.filter((t) => t.identifier).map((t) => [t.resource, t.identifier!] as const));
}

/**
 * Step in code: "a Stepwise resource is identified to MHSDS by its server id". A resource without
 * the MHSDS identifier of its table (a referral made here, not read from MHSDS) is given its id as
 * that identifier, so its row has a ServiceRequestId, CarePlanID, LocalPatientId.
 */
function identifyByServerId(resource: Resource, tables: readonly MhsdsTable[]): Resource {
  const system = identifierSystems(tables).get(resource.resourceType);
  const withIds = resource as Resource & { identifier?: Identifier[] };
  if (!system || !resource.id || withIds.identifier?.some((i) => i.system === system)) return resource;
  return { ...withIds, identifier: [...(withIds.identifier ?? []), { system, value: resource.id }] } as Resource;
}

/**
 * Step in code: "references become business identifiers". The maps read `Reference.identifier`
 * (an MHSDS row names the person by LocalPatientId, not by a server id); a literal reference
 * (`Patient/123`, or a fullUrl) is given the referenced resource's identifier when the Bundle holds
 * it, else its id under the type's MHSDS system. A map cannot follow a reference (engine limit).
 */
function referByIdentifier(resources: Resource[], tables: readonly MhsdsTable[]): Resource[] {
  const systems = identifierSystems(tables);
  const byRef = new Map<string, Resource>();
  for (const r of resources) if (r.id) byRef.set(`${r.resourceType}/${r.id}`, r);
  const identify = (ref: Reference): Reference => {
    if (ref.identifier || !ref.reference) return ref;
    const [type, id] = ref.reference.split('/').slice(-2);
    const target = byRef.get(`${type}/${id}`) as (Resource & { identifier?: Identifier[] }) | undefined;
    const system = systems.get(type);
    // a server id stands for an MHSDS identifier only where MHSDS has one for the type (LocalPatientId…), never for an ODS code
    const identifier =
      target?.identifier?.find((i) => i.system === system) ?? target?.identifier?.find((i) => i.system === ODS) ?? target?.identifier?.[0] ?? (id && system ? { system, value: id } : undefined);
    return identifier ? ({ ...ref, type: ref.type ?? type, identifier: { system: identifier.system, value: identifier.value } } as Reference) : ref;
  };
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (!value || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = walk(v);
    return typeof obj.reference === 'string' ? identify(out as Reference) : out;
  };
  return resources.map((r) => walk(r) as Resource);
}

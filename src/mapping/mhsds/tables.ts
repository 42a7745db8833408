import { readFileSync } from 'node:fs';
import type { StructureDefinition, StructureMap, StructureMapGroupRule } from '@medplum/fhirtypes';
import { expandCanonicalPlaceholder } from '../../fhir/canonical.js';
import { partnerMappings } from '../mapping-data.js';

/** One MHSDS table as mappings/mhsds/tables.json describes it, with what its maps and model say. */
export interface MhsdsTable {
  name: string;
  /** The FHIR resource type a row becomes (or joins). */
  resource: string;
  /** The fields that say which resource a row is (or joins). */
  key: readonly string[];
  /** The table whose resource a row of this one joins (MHS002GP into MHS001MPI's Patient). */
  into?: string;
  /** The business identifier system of the resource an owning table makes. */
  identifier?: string;
  /** FHIRPath on a resource: whether it gives a row of this table (all of `resource` when absent). */
  when?: string;
  /** FHIR elements a row implies without a field of its own (a contact's person is its referral's). */
  implied: readonly string[];
  /** [date field, time field] pairs that are one instant, in London local time. */
  instants: readonly (readonly [string, string])[];
  /** Every field of the table, in the logical model's order (the CSV header). */
  fields: readonly string[];
  /** The fields the table's map reads, and the keys of a joining table (the join reads them). */
  mapped: ReadonlySet<string>;
  /** Field -> the CodeSystem url its values come from (the logical model's bindings). */
  codeLists: ReadonlyMap<string, string>;
  logicalModel: StructureDefinition;
  toFhir: StructureMap;
  fromFhir: StructureMap;
}

interface TableJson {
  resource: string;
  key: string[];
  into?: string;
  identifier?: string;
  when?: string;
  instants?: [string, string][];
  implied?: string[];
}

let tables: Map<string, MhsdsTable> | undefined;

/** The MHSDS tables Stepwise maps, by name, in the order rows are read (owners before joiners). */
export function mhsdsTables(): ReadonlyMap<string, MhsdsTable> {
  tables ??= loadTables();
  return tables;
}

function loadTables(): Map<string, MhsdsTable> {
  const mappings = partnerMappings('mhsds');
  const text = readFileSync(new URL('../../../mappings/mhsds/tables.json', import.meta.url), 'utf8');
  const json = JSON.parse(expandCanonicalPlaceholder(text)) as { tables: Record<string, TableJson> };
  const result = new Map<string, MhsdsTable>();
  for (const [name, t] of Object.entries(json.tables)) {
    const logicalModel = mappings.logicalModels.get(name);
    const toFhir = mappings.structureMaps.get(`${name}-to-fhir`);
    const fromFhir = mappings.structureMaps.get(`fhir-to-${name}`);
    if (!logicalModel || !toFhir || !fromFhir) throw new Error(`mappings/mhsds: table ${name} needs logical/${name}.json, maps/${name}-to-fhir.map and maps/fhir-to-${name}.map`);
    const elements = (logicalModel.differential?.element ?? []).filter((e) => e.path.includes('.'));
    const fields = elements.map((e) => e.path.split('.')[1]);
    const codeLists = new Map<string, string>();
    for (const e of elements) {
      const vs = e.binding?.valueSet;
      const system = vs ? mappings.valueSets.find((v) => v.url === vs)?.compose?.include?.[0]?.system : undefined;
      if (system) codeLists.set(e.path.split('.')[1], system);
    }
    const mapped = new Set(fieldsReadBy(toFhir));
    if (t.into) for (const k of t.key) mapped.add(k);
    result.set(name, { name, resource: t.resource, key: t.key, into: t.into, identifier: t.identifier, when: t.when, instants: t.instants ?? [], implied: t.implied ?? [], fields, mapped, codeLists, logicalModel, toFhir, fromFhir });
  }
  return result;
}

/**
 * The fields of the row a map reads (`src.Field` anywhere in its rules): what is mapped, from the
 * map itself, so that a field no rule reads is reported rather than dropped silently.
 */
export function fieldsReadBy(map: StructureMap): string[] {
  const source = map.group[0].input.find((i) => i.mode === 'source')?.name;
  const found = new Set<string>();
  const walk = (rules: StructureMapGroupRule[] | undefined): void => {
    for (const rule of rules ?? []) {
      for (const s of rule.source) if (s.context === source && s.element) found.add(s.element);
      walk(rule.rule);
    }
  };
  walk(map.group[0].rule);
  return [...found];
}

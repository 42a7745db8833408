import { readdirSync, readFileSync } from 'node:fs';
import { parseMappingLanguage, TransformMapCollection } from '@medplum/core';
import type { CodeSystem, ConceptMap, Resource, StructureDefinition, StructureMap, ValueSet } from '@medplum/fhirtypes';
import { expandCanonicalPlaceholder } from '../fhir/canonical.js';
import { loadR4Definitions } from '../fhir/definitions.js';

/**
 * One partner's mappings as data (mappings/<partner>/, see mappings/README.md): StructureMaps in
 * the FHIR Mapping Language (maps/*.map), ConceptMaps, the logical models of its shapes and its
 * code systems. `${canonical}` in any file is the Stepwise canonical base.
 */
export interface PartnerMappings {
  partner: string;
  /** By id: the .map file's name (`MHS001MPI-to-fhir`). */
  structureMaps: ReadonlyMap<string, StructureMap>;
  conceptMaps: readonly ConceptMap[];
  /** Logical models by name (the MHSDS table, `MHS001MPI`). */
  logicalModels: ReadonlyMap<string, StructureDefinition>;
  codeSystems: readonly CodeSystem[];
  valueSets: readonly ValueSet[];
  /** What `structureMapTransform` looks ConceptMaps up in (with the reversed ones, see `reversedConceptMap`). */
  transformMaps: TransformMapCollection;
}

const root = new URL('../../mappings/', import.meta.url);
const cache = new Map<string, PartnerMappings>();

/** The partner's mappings, read and parsed once per process. */
export function partnerMappings(partner: string): PartnerMappings {
  let found = cache.get(partner);
  if (!found) {
    found = readPartnerMappings(partner);
    cache.set(partner, found);
  }
  return found;
}

/** Every conformance resource of every partner's folder, to publish (StructureMap/[id] is read from the store). */
export function publishedMappingResources(): Resource[] {
  return partnersWithMappings().flatMap((p) => {
    const m = partnerMappings(p);
    return [...m.structureMaps.values(), ...m.conceptMaps, ...m.logicalModels.values(), ...m.codeSystems, ...m.valueSets];
  });
}

let everyPartner: TransformMapCollection | undefined;

/** Every partner's StructureMaps and ConceptMaps (reversed ones too), for a map run on its own ($transform). */
export function allTransformMaps(): TransformMapCollection {
  everyPartner ??= new TransformMapCollection(partnersWithMappings().flatMap((p) => partnerMappings(p).transformMaps.resources));
  return everyPartner;
}

function partnersWithMappings(): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && listFiles(`${d.name}/maps`, '.map').length > 0)
    .map((d) => d.name)
    .sort();
}

function readPartnerMappings(partner: string): PartnerMappings {
  // the engine types its targets from the R4 schemas: without them every list is a single value
  loadR4Definitions();
  const structureMaps = new Map<string, StructureMap>();
  for (const file of listFiles(`${partner}/maps`, '.map')) {
    const id = file.replace(/\.map$/, '');
    structureMaps.set(id, structureMapOf(id, readText(`${partner}/maps/${file}`)));
  }
  const conceptMaps = readJsonFiles<ConceptMap>(`${partner}/conceptmaps`);
  const logicalModels = new Map(readJsonFiles<StructureDefinition>(`${partner}/logical`).map((sd) => [sd.name, sd] as const));
  const terminology = readJsonFiles<CodeSystem | ValueSet>(`${partner}/codesystems`);
  const reversed = conceptMaps.map(reversedConceptMap).filter((m): m is ConceptMap => m !== undefined);
  return {
    partner,
    structureMaps,
    conceptMaps,
    logicalModels,
    codeSystems: terminology.filter((r): r is CodeSystem => r.resourceType === 'CodeSystem'),
    valueSets: terminology.filter((r): r is ValueSet => r.resourceType === 'ValueSet'),
    transformMaps: new TransformMapCollection([...conceptMaps, ...reversed, ...structureMaps.values()]),
  };
}

/** A .map file as a StructureMap resource: the language gives url, name and groups; the file its id. */
export function structureMapOf(id: string, text: string): StructureMap {
  const parsed = parseMappingLanguage(expandCanonicalPlaceholder(text));
  const description = text.match(/^\/\/\/\s*(.+)$/m)?.[1];
  return { ...parsed, id, status: 'active', ...(description ? { description } : {}) };
}

/**
 * Step in code: "read a one-to-one ConceptMap backwards". The engine's `translate` reads a map only
 * forwards, from its first group's source system (@medplum/core fhirmapper/transform.ts
 * evalTranslate), so a map whose every code has exactly one target, equivalent or equal, and no
 * two codes the same target, is also offered reversed, at its url + `-reversed`. Maps that lose
 * information (wider, relatedto, several codes to one) have no reverse.
 */
export function reversedConceptMap(map: ConceptMap): ConceptMap | undefined {
  const group = map.group?.length === 1 ? map.group[0] : undefined;
  const elements = group?.element ?? [];
  const oneToOne = elements.every((e) => e.target?.length === 1 && ['equivalent', 'equal'].includes(e.target[0].equivalence) && e.target[0].code);
  const targets = elements.map((e) => e.target?.[0]?.code);
  if (!group || elements.length === 0 || !oneToOne || new Set(targets).size !== targets.length) return undefined;
  return {
    ...map,
    id: `${map.id}-reversed`,
    url: `${map.url}-reversed`,
    name: `${map.name ?? map.id}Reversed`,
    title: map.title ? `${map.title} (reversed)` : undefined,
    group: [
      {
        source: group.target,
        target: group.source,
        element: elements.map((e) => ({ code: e.target![0].code, target: [{ code: e.code, equivalence: e.target![0].equivalence }] })),
      },
    ],
  };
}

function listFiles(dir: string, ext: string): string[] {
  try {
    return readdirSync(new URL(`${dir}/`, root)).filter((f) => f.endsWith(ext)).sort();
  } catch {
    return [];
  }
}

function readText(path: string): string {
  return readFileSync(new URL(path, root), 'utf8');
}

function readJsonFiles<T>(dir: string): T[] {
  return listFiles(dir, '.json').map((f) => JSON.parse(expandCanonicalPlaceholder(readText(`${dir}/${f}`))) as T);
}

import { parseMappingLanguage, structureMapTransform, TransformMapCollection } from '@medplum/core';
import type { ConceptMap, Resource, StructureMap } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { loadR4Definitions } from '../fhir/definitions.js';

/** The mappings folder: one folder per partner, laid out as mappings/README.md says (maps/, conceptmaps/, logical/). */
export const MAPPINGS_DIR = new URL('../../mappings/', import.meta.url);

/** A partner's mapping as data: its StructureMaps (FHIR Mapping Language) by file name, and its ConceptMaps. */
export interface LoadedMapping {
  structureMaps: ReadonlyMap<string, StructureMap>;
  conceptMaps: readonly ConceptMap[];
  transformMaps: TransformMapCollection;
}

const loaded = new Map<string, LoadedMapping>();

/** Loads mappings/<partner>: maps/*.map (parsed by @medplum/core) and conceptmaps/*.json, once per process. */
export function loadMapping(partner: string): LoadedMapping {
  let mapping = loaded.get(partner);
  if (mapping) return mapping;
  const dir = new URL(`${partner}/`, MAPPINGS_DIR);
  const structureMaps = new Map(
    list(dir, 'maps', '.map').map((f) => [f.replace(/\.map$/, ''), parseMappingLanguage(readFileSync(new URL(`maps/${f}`, dir), 'utf8'))] as const),
  );
  const conceptMaps = list(dir, 'conceptmaps', '.json').map((f) => JSON.parse(readFileSync(new URL(`conceptmaps/${f}`, dir), 'utf8')) as ConceptMap);
  mapping = { structureMaps, conceptMaps, transformMaps: new TransformMapCollection([...structureMaps.values(), ...conceptMaps]) };
  loaded.set(partner, mapping);
  return mapping;
}

function list(dir: URL, sub: string, ext: string): string[] {
  return readdirSync(new URL(`${sub}/`, dir)).filter((f) => f.endsWith(ext)).sort();
}

/**
 * Runs the StructureMap `mapId` of a mapping over one source of type `sourceType` into a new
 * resource of type `targetType` (given to the engine: it would make a bare object without its
 * resourceType).
 */
export function runMapping<T extends Resource>(mapping: LoadedMapping, mapId: string, sourceType: string, source: unknown, targetType: T['resourceType']): T {
  loadR4Definitions(); // the engine reads target element types (lists or not) from the R4 index
  const map = mapping.structureMaps.get(mapId);
  if (!map) throw new Error(`No StructureMap ${mapId}`);
  const target = { type: targetType, value: { resourceType: targetType } };
  structureMapTransform(map, [{ type: sourceType, value: source }, target], mapping.transformMaps);
  return target.value as T;
}

/** The target code a ConceptMap gives `code` (its first group), or undefined when it has none. */
export function conceptMapTarget(map: ConceptMap, code: string): string | undefined {
  return map.group?.[0]?.element?.find((e) => e.code === code)?.target?.[0]?.code;
}

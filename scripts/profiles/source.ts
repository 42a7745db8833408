import { readdirSync, readFileSync } from 'node:fs';
import type { CodeSystem, Measure, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { type ConformanceType, expandCanonicalPlaceholder, STEPWISE_CONFORMANCE_VERSION, stepwiseCanonical } from '../../src/fhir/canonical.js';
import { sourceDir } from './layout.js';

export type ConformanceResource = StructureDefinition | ValueSet | CodeSystem | Measure;

const conformanceTypes: readonly string[] = ['StructureDefinition', 'ValueSet', 'CodeSystem', 'Measure'] satisfies ConformanceType[];

/** The `.json` files of a directory, sorted by name so every build sees them in the same order. */
export function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** Reads a profiles/ JSON file with `${canonical}` replaced by the canonical base. */
export function readWithCanonical<T>(file: string): T {
  return JSON.parse(expandCanonicalPlaceholder(readFileSync(file, 'utf8'))) as T;
}

/**
 * The conformance resources of profiles/source, each checked to be named `<type>-<id>.json` with
 * the canonical URL `<base>/<type>/<id>`, and stamped with the conformance version (sources carry
 * no version, so one constant versions the whole set).
 */
export function readSourceResources(dir: string = sourceDir): ConformanceResource[] {
  return jsonFiles(dir).map((file) => {
    const resource = readWithCanonical<ConformanceResource>(dir + file);
    const { resourceType, id, url } = resource;
    if (!conformanceTypes.includes(resourceType) || !id) throw new Error(`${file}: expected a StructureDefinition, ValueSet, CodeSystem or Measure with an id`);
    if (file !== `${resourceType}-${id}.json`) throw new Error(`${file}: a ${resourceType} with id ${id} belongs in ${resourceType}-${id}.json`);
    const expectedUrl = stepwiseCanonical(resourceType, id);
    if (url !== expectedUrl) throw new Error(`${file}: url is ${url}, expected \${canonical}/${resourceType}/${id}`);
    if (resource.version !== undefined) throw new Error(`${file}: remove version; the build sets it from STEPWISE_CONFORMANCE_VERSION`);
    return withVersion(resource);
  });
}

/** Inserts `version` right after `url`, where FHIR puts it. */
function withVersion(resource: ConformanceResource): ConformanceResource {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    out[key] = value;
    if (key === 'url') out.version = STEPWISE_CONFORMANCE_VERSION;
  }
  return out as unknown as ConformanceResource;
}

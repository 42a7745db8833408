import { readdirSync, readFileSync } from 'node:fs';
import type { CodeSystem, Measure, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import type { ConformanceRegistry } from './validation/registry.js';

/**
 * The conformance resources Stepwise publishes (profiles/published, built by `npm run profiles`)
 * and the UK Core resources they depend on (profiles/dependencies). The server validates against
 * both but serves only its own.
 */
const profilesDir = new URL('../../profiles/', import.meta.url);
const publishedDir = new URL('published/', profilesDir);
const dependencyDirs = [new URL('dependencies/ukcore/', profilesDir)];

export type StepwiseConformanceResource = StructureDefinition | ValueSet | CodeSystem | Measure;

function readJsonResources(dir: URL): Resource[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Resource);
}

/** Stepwise StructureDefinitions (with snapshots), ValueSets, CodeSystems and the pathway Measures, sorted by file name. */
export function loadStepwiseConformance(): StepwiseConformanceResource[] {
  return readJsonResources(publishedDir) as StepwiseConformanceResource[];
}

/** UK Core extensions and terminology the Stepwise profiles use; not Stepwise's to serve. */
export function readDependencies(): Resource[] {
  return dependencyDirs.flatMap(readJsonResources);
}

/** Adds the Stepwise profiles and their UK Core dependencies to a registry (e.g. one from createR4Registry). */
export function addStepwiseProfiles(registry: ConformanceRegistry): ConformanceRegistry {
  for (const resource of [...readDependencies(), ...loadStepwiseConformance()]) registry.addResource(resource);
  return registry;
}

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { readNpmPackage } from '../fhir/npm-package.js';
import { withElementIds } from '../fhir/validation/conformance-check.js';
import type { Validator } from '../fhir/validation/index.js';
import { parseFhirInput } from './fhir-input.js';

/** What `--ig` loaded: resources that are not definitions are kept for references to them. */
export interface LoadedDefinitions {
  definitions: number;
  others: Map<string, Resource>;
  /** Files or resources that could not be read or used, with why. */
  problems: string[];
}

/**
 * Loads what the HL7 validator's `-ig` names into a validator: a FHIR NPM package (.tgz), a folder
 * (its .json and .xml files, not its subfolders), or one file holding a resource or a Bundle of
 * them. StructureDefinitions, ValueSets, CodeSystems, Questionnaires, Measures and Libraries become
 * definitions the validator uses (a StructureDefinition without element ids gets them, as when
 * stored); other resources are kept by `Type/id` so that references to them can be checked against
 * target profiles.
 */
export async function loadDefinitions(validator: Validator, paths: readonly string[]): Promise<LoadedDefinitions> {
  const loaded: LoadedDefinitions = { definitions: 0, others: new Map(), problems: [] };
  for (const path of paths) {
    for (const { source, resource } of await resourcesAt(path, loaded.problems)) add(validator, resource, source, loaded);
  }
  return loaded;
}

async function resourcesAt(path: string, problems: string[]): Promise<{ source: string; resource: Resource }[]> {
  if ((await stat(path)).isDirectory()) {
    const names = (await readdir(path)).filter((n) => /\.(json|xml)$/.test(n) && n !== 'package.json').sort();
    return (await Promise.all(names.map((n) => resourcesAt(join(path, n), problems)))).flat();
  }
  try {
    if (path.endsWith('.tgz')) return readNpmPackage(await readFile(path)).resources.map(({ file, resource }) => ({ source: `${path}:${file}`, resource }));
    const text = await readFile(path, 'utf8');
    return [{ source: path, resource: parseFhirInput(text) }];
  } catch (err) {
    problems.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}

function add(validator: Validator, resource: Resource, source: string, loaded: LoadedDefinitions): void {
  if (resource.resourceType === 'Bundle') {
    for (const entry of resource.entry ?? []) if (entry.resource) add(validator, entry.resource, source, loaded);
    return;
  }
  try {
    const usable = resource.resourceType === 'StructureDefinition' ? withElementIds(resource) : resource;
    if (validator.registry.addResource(usable)) loaded.definitions++;
    else if (resource.id) loaded.others.set(`${resource.resourceType}/${resource.id}`, resource);
  } catch (err) {
    loaded.problems.push(`${source} (${resource.resourceType}/${resource.id ?? '?'}): ${err instanceof Error ? err.message : String(err)}`);
  }
}

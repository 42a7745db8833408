import type { StructureDefinition } from '@medplum/fhirtypes';
import { snapshotElements } from '../../src/fhir/validation/snapshot.js';
import { readDependencies } from '../../src/fhir/stepwise-profiles.js';
import { packageFileName, packageFiles, resourceFileName } from './npm-package.js';
import { createSnapshotRegistry } from './snapshot-registry.js';
import { type ConformanceResource, readSourceResources } from './source.js';
import type { TarFile } from './tar.js';

export interface ProfilesBuild {
  /** Published resources: StructureDefinitions with snapshot and differential, ValueSets, CodeSystems. */
  resources: ConformanceResource[];
  /** profiles/published/<file name> → file text. */
  publishedFiles: Map<string, string>;
  packageFileName: string;
  packageFiles: TarFile[];
}

/** Everything `npm run profiles` writes, computed in memory (the staleness test compares it with the files). */
export function buildProfiles(): ProfilesBuild {
  const sources = readSourceResources();
  const registry = createSnapshotRegistry([...readDependencies(), ...sources]);
  const resources = sources.map((r) => (r.resourceType === 'StructureDefinition' ? withSnapshot(r, registry) : r));
  const publishedFiles = new Map(resources.map((r) => [resourceFileName(r), JSON.stringify(r, null, 2) + '\n']));
  return { resources, publishedFiles, packageFileName, packageFiles: packageFiles(resources) };
}

/** The StructureDefinition with its snapshot generated from the differential, placed before it as in R4. */
function withSnapshot(sd: StructureDefinition, registry: ReturnType<typeof createSnapshotRegistry>): StructureDefinition {
  const element = snapshotElements({ ...sd, snapshot: undefined }, registry);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sd)) {
    if (key === 'snapshot') continue;
    if (key === 'differential') out.snapshot = { element };
    out[key] = value;
  }
  return out as unknown as StructureDefinition;
}

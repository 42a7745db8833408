import { gunzipSync, gzipSync } from 'node:zlib';
import { STEPWISE_CANONICAL_BASE, STEPWISE_CONFORMANCE_VERSION } from '../../src/fhir/canonical.js';
import type { ConformanceResource } from './source.js';
import { readTar, type TarFile, writeTar } from './tar.js';

/**
 * The FHIR NPM package of the Stepwise conformance resources, as the HL7 validator and Firely
 * tooling load it (https://confluence.hl7.org/display/FHIR/NPM+Package+Specification): a gzipped tar
 * whose package/ folder holds package.json, one JSON file per resource and .index.json.
 */
export const PACKAGE_NAME = 'stepwise.r4';
export const packageFileName = `${PACKAGE_NAME}-${STEPWISE_CONFORMANCE_VERSION}.tgz`;

/** Fixed file time (1985-10-26T08:15:00Z, the time npm itself uses) so builds are byte-identical. */
const FIXED_MTIME = 499162500;

export function packageManifest(): Record<string, unknown> {
  return {
    name: PACKAGE_NAME,
    version: STEPWISE_CONFORMANCE_VERSION,
    description: 'Stepwise FHIR R4 profiles, code systems and value sets for community mental health pathways in England',
    author: 'Stepwise',
    fhirVersions: ['4.0.1'],
    dependencies: { 'hl7.fhir.r4.core': '4.0.1' },
    canonical: STEPWISE_CANONICAL_BASE,
    jurisdiction: 'urn:iso:std:iso:3166#GB',
    license: 'CC0-1.0',
  };
}

export const resourceFileName = (r: ConformanceResource): string => `${r.resourceType}-${r.id}.json`;

/** One .index.json entry (index-version 1 of the package specification). */
function indexEntry(r: ConformanceResource): Record<string, unknown> {
  const entry: Record<string, unknown> = { filename: resourceFileName(r), resourceType: r.resourceType, id: r.id, url: r.url, version: r.version };
  if (r.resourceType === 'StructureDefinition') Object.assign(entry, { kind: r.kind, type: r.type, derivation: r.derivation });
  if (r.resourceType === 'CodeSystem') entry.content = r.content;
  return entry;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8');

/** The files of the package, in a fixed order: package.json, .index.json, then resources by file name. */
export function packageFiles(resources: readonly ConformanceResource[]): TarFile[] {
  const sorted = [...resources].sort((a, b) => (resourceFileName(a) < resourceFileName(b) ? -1 : 1));
  return [
    { path: 'package/package.json', content: json(packageManifest()) },
    { path: 'package/.index.json', content: json({ 'index-version': 1, files: sorted.map(indexEntry) }) },
    ...sorted.map((r) => ({ path: `package/${resourceFileName(r)}`, content: json(r) })),
  ];
}

export function packTgz(files: readonly TarFile[]): Buffer {
  const gz = gzipSync(writeTar(files, FIXED_MTIME), { level: 9 });
  gz[9] = 255; // gzip header OS field "unknown" (RFC 1952 §2.3.1), so the bytes do not depend on the platform
  return gz;
}

export function unpackTgz(tgz: Buffer): ReturnType<typeof readTar> {
  return readTar(gunzipSync(tgz));
}

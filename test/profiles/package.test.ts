import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STEPWISE_CANONICAL_BASE, STEPWISE_CONFORMANCE_VERSION } from '../../src/fhir/canonical.js';
import { loadStepwiseConformance } from '../../src/fhir/stepwise-profiles.js';
import { packageDir } from '../../scripts/profiles/layout.js';
import { PACKAGE_NAME, packageFileName, packageFiles, packTgz, unpackTgz } from '../../scripts/profiles/npm-package.js';

/**
 * The FHIR NPM package (https://confluence.hl7.org/display/FHIR/NPM+Package+Specification) as the
 * HL7 validator and Firely tooling read it: package/package.json, package/.index.json and one JSON
 * file per resource, all under package/.
 */
const entries = unpackTgz(readFileSync(packageDir + packageFileName));
const file = (path: string): Record<string, any> => {
  const entry = entries.find((e) => e.path === path);
  if (!entry) throw new Error(`${path} is not in ${packageFileName}`);
  return JSON.parse(entry.content.toString('utf8'));
};
const resources = loadStepwiseConformance();

describe(`FHIR package ${packageFileName}`, () => {
  it('is named <name>-<version>.tgz after the conformance version', () => {
    expect(packageFileName).toBe(`stepwise.r4-${STEPWISE_CONFORMANCE_VERSION}.tgz`);
  });

  it('lists package.json, .index.json and one file per published resource, all regular files with fixed mode and time', () => {
    const expected = ['package/package.json', 'package/.index.json', ...resources.map((r) => `package/${r.resourceType}-${r.id}.json`).sort()];
    expect(entries.map((e) => e.path)).toEqual(expected);
    expect(new Set(entries.map((e) => `${e.type} ${e.mode.toString(8)} ${e.mtime}`))).toEqual(new Set(['0 644 499162500']));
  });

  it('has a well-formed package.json', () => {
    const manifest = file('package/package.json');
    expect(manifest).toMatchObject({
      name: PACKAGE_NAME,
      version: STEPWISE_CONFORMANCE_VERSION,
      fhirVersions: ['4.0.1'],
      dependencies: { 'hl7.fhir.r4.core': '4.0.1' },
      canonical: STEPWISE_CANONICAL_BASE,
    });
    // FHIR package names: lowercase, dot-separated parts of letters, digits, '-' and '_'.
    expect(manifest.name).toMatch(/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/);
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('has an .index.json entry for each resource file, matching the file', () => {
    const index = file('package/.index.json');
    expect(index['index-version']).toBe(1);
    const resourceFiles = entries.filter((e) => !e.path.endsWith('package.json') && !e.path.endsWith('.index.json'));
    expect(index.files.map((f: { filename: string }) => `package/${f.filename}`)).toEqual(resourceFiles.map((e) => e.path));
    for (const entry of index.files) {
      const resource = file(`package/${entry.filename}`);
      expect(entry).toMatchObject({ resourceType: resource.resourceType, id: resource.id, url: resource.url, version: STEPWISE_CONFORMANCE_VERSION });
      if (resource.resourceType === 'StructureDefinition') expect(entry).toMatchObject({ kind: resource.kind, type: resource.type });
    }
  });

  it('carries the published resources unchanged, StructureDefinitions with their snapshots', () => {
    for (const r of resources) {
      expect(file(`package/${r.resourceType}-${r.id}.json`)).toEqual(r);
      if (r.resourceType === 'StructureDefinition') expect(r.snapshot?.element?.length).toBeGreaterThan(0);
    }
  });

  it('packs the same files to the same bytes', () => {
    const files = packageFiles(resources);
    expect(packTgz(files).equals(packTgz(files))).toBe(true);
    expect(unpackTgz(packTgz(files)).map((e) => e.path)).toEqual(files.map((f) => f.path));
  });
});

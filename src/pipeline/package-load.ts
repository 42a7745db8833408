import type { ImplementationGuide, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import type { NpmPackage } from '../fhir/npm-package.js';
import type { ResourceStore } from '../store/resource-store.js';
import { CONFORMANCE_TYPES } from './stored-conformance.js';
import { LOAD_PACKAGE_ACTIVITY, type WriteOrigin, type WritePipeline } from './write-pipeline.js';

/**
 * Loads FHIR NPM packages (implementation guides such as UK Core or BaRS) into the store as
 * conformance resources (issue 15): their StructureDefinitions, ValueSets and CodeSystems, each
 * written through the write pipeline (validated, audited) under its own id, all packages of one
 * load in one transaction. Validation then uses them like any stored profile
 * (pipeline/stored-conformance.ts). Other resources of a package (examples, CapabilityStatements,
 * MessageDefinitions) are not conformance for validation and are left out, counted.
 *
 * Each package loaded is recorded as an ImplementationGuide whose id is the package name and whose
 * `packageId` and `version` are the package's: that is how a later load knows its dependencies are
 * there. A dependency must be loaded already or given in the same load; otherwise the load is
 * refused naming it, unless `missingDependencies: 'warn'`, which stores the package anyway (its
 * profiles whose bases are missing then say so where they are used).
 */

/** Packages every Stepwise has: the R4 base it validates with. */
const BUILT_IN_PACKAGES = new Set(['hl7.fhir.r4.core']);

export interface LoadPackagesOptions {
  missingDependencies?: 'refuse' | 'warn';
}

export interface LoadedPackage {
  name: string;
  version: string;
  /** Conformance resources written as new versions (created or changed). */
  written: number;
  /** Conformance resources already stored as they are in the package. */
  unchanged: number;
  /** Files that are not StructureDefinitions, ValueSets or CodeSystems. */
  skipped: number;
}

export interface LoadReport {
  packages: LoadedPackage[];
  /** Warnings: missing or other-version dependencies, and what validation found in the resources. */
  issues: OperationOutcomeIssue[];
}

export const packageRecordId = (name: string): string => name.slice(0, 64);

export async function loadPackages(pipeline: WritePipeline, store: ResourceStore, origin: WriteOrigin, packages: NpmPackage[], opts: LoadPackagesOptions = {}): Promise<LoadReport> {
  const ordered = dependencyOrder(packages);
  const packageOrigin: WriteOrigin = { ...origin, activity: LOAD_PACKAGE_ACTIVITY };
  return store.transaction(async (tx) => {
    const issues = await checkDependencies(tx, ordered, opts.missingDependencies ?? 'refuse');
    const loaded: LoadedPackage[] = [];
    for (const pkg of ordered) {
      const report: LoadedPackage = { name: pkg.name, version: pkg.version, written: 0, unchanged: 0, skipped: 0 };
      for (const { file, resource } of loadOrder(pkg)) {
        if (!resource) {
          report.skipped++;
          continue;
        }
        const result = await writeFromPackage(pipeline, tx, withId(resource, file), packageOrigin, pkg, file);
        if (result.changed) report.written++;
        else report.unchanged++;
        for (const w of result.warnings ?? []) issues.push(fromFile(w, pkg, file));
      }
      await pipeline.update(tx, packageRecord(pkg), packageOrigin);
      loaded.push(report);
    }
    return { packages: loaded, issues };
  });
}

/** Writes one resource; a refusal names the package file it came from. */
async function writeFromPackage(pipeline: WritePipeline, tx: ResourceStore, resource: Resource, origin: WriteOrigin, pkg: NpmPackage, file: string) {
  try {
    return await pipeline.update(tx, resource, origin);
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    throw FhirError.fromIssues(err.code, err.issues.map((i) => fromFile(i, pkg, file)));
  }
}

function fromFile(issue: OperationOutcomeIssue, pkg: NpmPackage, file: string): OperationOutcomeIssue {
  const diagnostics = `${pkg.name}#${pkg.version} ${file}: ${issue.diagnostics ?? issue.details?.text ?? ''}`;
  return { ...issue, diagnostics, details: { ...issue.details, text: diagnostics } };
}

/**
 * Packages after the packages of this load they depend on: by name (package.json dependencies),
 * and by content, so that a package whose profiles stand on another's (BaRS on a UK Core built
 * under another package name) is checked with those bases already stored.
 */
function dependencyOrder(packages: NpmPackage[]): NpmPackage[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const definedBy = new Map<string, NpmPackage>();
  for (const p of packages) for (const { resource } of p.resources) if (resource.resourceType === 'StructureDefinition' && resource.url) definedBy.set(resource.url, p);
  const out: NpmPackage[] = [];
  const visiting = new Set<string>();
  const visit = (p: NpmPackage): void => {
    if (out.includes(p) || visiting.has(p.name)) return;
    visiting.add(p.name);
    for (const dep of Object.keys(p.dependencies)) {
      const given = byName.get(dep);
      if (given) visit(given);
    }
    for (const url of usedDefinitions(p)) {
      const other = definedBy.get(url);
      if (other && other !== p) visit(other);
    }
    out.push(p);
  };
  packages.forEach(visit);
  return out;
}

/** The StructureDefinitions a package's profiles are based on or name as element type profiles. */
function usedDefinitions(p: NpmPackage): Set<string> {
  const used = new Set<string>();
  for (const { resource } of p.resources) {
    if (resource.resourceType !== 'StructureDefinition') continue;
    if (resource.baseDefinition) used.add(resource.baseDefinition);
    for (const e of resource.differential?.element ?? []) for (const t of e.type ?? []) for (const url of t.profile ?? []) used.add(url);
  }
  return used;
}

async function checkDependencies(tx: ResourceStore, packages: NpmPackage[], missing: 'refuse' | 'warn'): Promise<OperationOutcomeIssue[]> {
  const given = new Map(packages.map((p) => [p.name, p.version]));
  const problems: { pkg: NpmPackage; dep: string; version: string; loaded?: string }[] = [];
  for (const pkg of packages) {
    for (const [dep, version] of Object.entries(pkg.dependencies)) {
      if (BUILT_IN_PACKAGES.has(dep)) continue;
      const loaded = given.get(dep) ?? ((await tx.unrestricted.readOrUndefined('ImplementationGuide', packageRecordId(dep))) as ImplementationGuide | undefined)?.version;
      if (loaded === undefined || loaded !== version) problems.push({ pkg, dep, version, loaded });
    }
  }
  const absent = problems.filter((p) => p.loaded === undefined);
  if (absent.length > 0 && missing === 'refuse') {
    throw new FhirError(
      FhirErrorCode.UNPROCESSABLE,
      absent.map(({ pkg, dep, version }) => ({
        code: 'not-found' as const,
        message: `Package ${pkg.name}#${pkg.version} depends on ${dep}#${version}, which is not loaded: load it first or in the same load, or load with missing dependencies allowed (missingDependencies=warn, --allow-missing-dependencies) to store this package without it`,
      })),
    );
  }
  return problems.map(({ pkg, dep, version, loaded }) => {
    const message =
      loaded === undefined
        ? `Package ${pkg.name}#${pkg.version} depends on ${dep}#${version}, which is not loaded; its profiles that need it say so where they are used`
        : `Package ${pkg.name}#${pkg.version} depends on ${dep}#${version}; ${dep}#${loaded} is loaded and is used instead`;
    return { severity: 'warning', code: loaded === undefined ? 'not-found' : 'informational', diagnostics: message, details: { text: message } };
  });
}

/**
 * CodeSystems, then ValueSets, then StructureDefinitions with each after the package's own
 * profiles it is based on, so that every profile is checked with its base already stored. Files
 * of other types come back without a resource (skipped).
 */
function loadOrder(pkg: NpmPackage): { file: string; resource?: Resource }[] {
  const ofType = (type: string) => pkg.resources.filter((r) => r.resource.resourceType === type);
  const sds = ofType('StructureDefinition') as { file: string; resource: StructureDefinition }[];
  const byUrl = new Map(sds.map((s) => [s.resource.url, s]));
  const ordered: typeof sds = [];
  const visiting = new Set<string>();
  const visit = (s: (typeof sds)[number]): void => {
    if (ordered.includes(s) || visiting.has(s.file)) return;
    visiting.add(s.file);
    const base = s.resource.baseDefinition && byUrl.get(s.resource.baseDefinition);
    if (base) visit(base);
    // extensions and other type profiles a profile's elements name come first too
    for (const e of s.resource.differential?.element ?? []) {
      for (const t of e.type ?? []) for (const p of t.profile ?? []) {
        const used = byUrl.get(p);
        if (used) visit(used);
      }
    }
    ordered.push(s);
  };
  sds.forEach(visit);
  const others = pkg.resources.filter((r) => !CONFORMANCE_TYPES.includes(r.resource.resourceType)).map(({ file }) => ({ file }));
  return [...ofType('CodeSystem'), ...ofType('ValueSet'), ...ordered, ...others];
}

/** Package resources are stored under their own ids; one without an id gets its file name's. */
function withId(resource: Resource, file: string): Resource {
  if (resource.id) return resource;
  const base = file.slice(file.lastIndexOf('/') + 1).replace(/\.json$/, '');
  return { ...resource, id: base.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 64) };
}

/** The record of a loaded package (R4 ImplementationGuide: packageId, version, dependsOn). */
function packageRecord(pkg: NpmPackage): ImplementationGuide {
  const canonical = pkg.canonical ?? `urn:fhir-package:${pkg.name}`;
  const dependsOn = Object.entries(pkg.dependencies).map(([dep, version]) => ({ uri: `urn:fhir-package:${dep}`, packageId: dep, version }));
  return {
    resourceType: 'ImplementationGuide',
    id: packageRecordId(pkg.name),
    url: `${canonical}/ImplementationGuide/${pkg.name}`,
    version: pkg.version,
    name: pkg.name.replace(/[^A-Za-z0-9_]/g, '_'),
    title: `FHIR package ${pkg.name}#${pkg.version}`,
    status: 'active',
    packageId: pkg.name,
    fhirVersion: ['4.0.1'],
    ...(dependsOn.length ? { dependsOn } : {}),
  };
}

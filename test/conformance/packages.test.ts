import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, ImplementationGuide, OperationOutcome, Resource, ServiceRequest, StructureDefinition } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packTgz } from '../../scripts/profiles/npm-package.js';
import { main as cli } from '../../src/cli/main.js';
import { DiskCache } from '../../src/disk-cache.js';
import { readNpmPackage } from '../../src/fhir/npm-package.js';
import { createServerValidator } from '../../src/fhir/server-validator.js';
import { snapshotElements } from '../../src/fhir/validation/snapshot.js';
import { parseFhirXml } from '../../src/fhir/xml/index.js';
import { loadPackages, type LoadReport } from '../../src/pipeline/package-load.js';
import { StoredConformance } from '../../src/pipeline/stored-conformance.js';
import { WritePipeline } from '../../src/pipeline/write-pipeline.js';
import { openEmbeddedDatabase } from '../../src/store/embedded-database.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { systemClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { fixturePath } from '../support/fixtures.js';

/**
 * Issue 15: FHIR NPM packages loaded with POST /fhir/$load-package (and `stepwise package load`)
 * are stored as conformance resources and used by validation; dependencies must be loaded or given;
 * the BaRS profiles are validated on their real UK Core bases. The packages are built here from
 * vendored files: UK Core from test/fixtures/nhs/ukcore and nhs/ukcore-extra, BaRS from
 * test/fixtures/nhs/bars and src/messaging/conformance/CDSSExtension.json (all named in
 * test/fixtures/SOURCES.md and src/messaging/conformance.ts).
 */

const EX = 'http://example.org/fhir';
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

function tgz(name: string, version: string, resources: Resource[], dependencies: Record<string, string> = { 'hl7.fhir.r4.core': '4.0.1' }): Buffer {
  return packTgz([
    { path: 'package/package.json', content: json({ name, version, fhirVersions: ['4.0.1'], dependencies }) },
    ...resources.map((r, i) => ({ path: `package/${r.resourceType}-${r.id ?? i}.json`, content: json(r) })),
    { path: 'package/example/Patient-example.json', content: json({ resourceType: 'Patient', id: 'example' }) },
  ]);
}

function sd(name: string, type: string, base: string, element: NonNullable<StructureDefinition['differential']>['element']): StructureDefinition {
  return { resourceType: 'StructureDefinition', id: name, url: `${EX}/StructureDefinition/${name}`, name, status: 'active', kind: type === 'Extension' ? 'complex-type' : 'resource', abstract: false, type, baseDefinition: base, derivation: 'constraint', differential: { element } };
}

const R4 = 'http://hl7.org/fhir/StructureDefinition/';
const dated = sd('PkgDated', 'Patient', `${R4}Patient`, [{ id: 'Patient', path: 'Patient' }, { id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 }]);
// listed before its base: the loader stores bases first
const gendered = sd('PkgDatedGendered', 'Patient', dated.url as string, [{ id: 'Patient', path: 'Patient' }, { id: 'Patient.gender', path: 'Patient.gender', min: 1 }]);
const colours: Resource = { resourceType: 'CodeSystem', id: 'pkg-colours', url: `${EX}/CodeSystem/pkg-colours`, status: 'active', content: 'complete', concept: [{ code: 'red' }] };
const examplePackage = () => tgz('example.profiles', '1.0.0', [gendered, colours, dated]);

let t: TestApp;
let validator: StoredConformance;
beforeAll(async () => {
  validator = new StoredConformance(createServerValidator);
  t = await startTestApp(undefined, { validator, maxBodyBytes: 4 * 1024 * 1024 });
});
afterAll(() => t.close());

async function load(body: Buffer | string, query = '', contentType = 'application/gzip') {
  const res = await t.app.request(`http://stepwise.test/fhir/$load-package${query}`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
  return { status: res.status, oo: (await res.json()) as OperationOutcome };
}

async function validate(type: string, resource: unknown, profile: string) {
  const res = await t.fhir('POST', `${type}/$validate?profile=${encodeURIComponent(profile)}`, resource);
  return ((await res.json()) as OperationOutcome).issue.filter((i) => i.severity === 'error');
}

describe('POST /fhir/$load-package', () => {
  it('stores the conformance resources of a package, bases first, records the package, and validation uses them', async () => {
    const { status, oo } = await load(examplePackage());
    expect(status).toBe(200);
    expect(oo.issue[0].diagnostics).toBe('Loaded example.profiles#1.0.0: 3 conformance resources written, 0 unchanged, 0 other files left out');
    const ig = (await (await t.fhir('GET', 'ImplementationGuide/example.profiles')).json()) as ImplementationGuide;
    expect([ig.packageId, ig.version]).toEqual(['example.profiles', '1.0.0']);
    expect((await t.fhir('GET', 'Patient/example')).status).toBe(404); // examples are not conformance
    const errors = await validate('Patient', { resourceType: 'Patient' }, gendered.url as string);
    expect(errors.map((i) => i.expression?.[0]).sort()).toEqual(['Patient.birthDate', 'Patient.gender']);
  });

  it('loading the same package again changes nothing', async () => {
    await load(examplePackage());
    const { oo } = await load(examplePackage());
    expect(oo.issue[0].diagnostics).toMatch(/0 conformance resources written, 3 unchanged/);
  });

  it('refuses a package whose dependency is not loaded, naming it; stores it with a warning when asked to', async () => {
    const dependent = () => tgz('example.dependent', '2.0.0', [sd('PkgDependent', 'Patient', `${R4}Patient`, [{ id: 'Patient', path: 'Patient' }])], { 'example.missing': '1.0.0', 'hl7.fhir.r4.core': '4.0.1' });
    const refused = await load(dependent());
    expect(refused.status).toBe(422);
    expect(refused.oo.issue.map((i) => i.diagnostics)).toEqual([expect.stringMatching(/^Package example\.dependent#2\.0\.0 depends on example\.missing#1\.0\.0, which is not loaded/)]);
    expect((await t.fhir('GET', 'StructureDefinition/PkgDependent')).status).toBe(404);
    const stored = await load(dependent(), '?missingDependencies=warn');
    expect(stored.status).toBe(200);
    expect(stored.oo.issue.filter((i) => i.severity === 'warning').map((i) => i.diagnostics)).toEqual([expect.stringMatching(/example\.missing#1\.0\.0, which is not loaded/)]);
  });

  it('accepts a dependency loaded before, and says when its version differs', async () => {
    await load(examplePackage());
    const onIt = (version: string) => tgz('example.onit', '1.0.0', [sd('PkgOnIt', 'Patient', gendered.url as string, [{ id: 'Patient', path: 'Patient' }])], { 'example.profiles': version });
    const same = await load(onIt('1.0.0'));
    expect([same.status, same.oo.issue.filter((i) => i.severity !== 'information')]).toEqual([200, []]);
    const other = await load(onIt('0.9.0'));
    expect(other.oo.issue.map((i) => i.diagnostics)).toContainEqual(expect.stringMatching(/example\.profiles#1\.0\.0 is loaded and is used instead/));
  });

  it('answers 400 for a body that is not a package', async () => {
    expect((await load('not a tarball')).status).toBe(400);
    expect((await load(packTgz([{ path: 'package/readme.txt', content: Buffer.from('hi') }]))).oo.issue[0].diagnostics).toMatch(/no package\/package\.json/);
    expect((await load(JSON.stringify({ resourceType: 'Patient' }), '', 'application/fhir+json')).status).toBe(400);
  });

  it('an unusable profile in a package is stored with a warning, and explains itself where it is used', async () => {
    const broken = sd('PkgBroken', 'Patient', `${R4}Patient`, [{ id: 'Patient', path: 'Patient' }, { id: 'Patient.shoeSize', path: 'Patient.shoeSize', min: 1 }]);
    const { status, oo } = await load(tgz('example.broken', '1.0.0', [broken]));
    expect(status).toBe(200);
    expect(oo.issue.find((i) => i.severity === 'warning')?.diagnostics).toMatch(/example\.broken#1\.0\.0 package\/StructureDefinition-PkgBroken\.json: Profile .*PkgBroken cannot be used for validation: .*shoeSize/);
    expect((await validate('Patient', { resourceType: 'Patient' }, broken.url as string)).map((i) => i.diagnostics)).toEqual([expect.stringMatching(/could not be compiled/)]);
  });
});

const xml = (...parts: string[]) => parseFhirXml(readFileSync(fixturePath(...parts), 'utf8')) as Resource;
const CONFORMANCE = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem']);
const xmlResources = (...folder: string[]) =>
  readdirSync(fixturePath(...folder))
    .filter((f) => f.endsWith('.xml'))
    .map((f) => xml(...folder, f))
    .filter((r) => CONFORMANCE.has(r.resourceType));

describe('BaRS on its real UK Core bases', () => {
  const BARS_REFERRAL = 'https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral';
  const BARS_HEADER = 'https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-servicerequest-request';

  let report: LoadReport;

  beforeAll(async () => {
    const ukcore = readNpmPackage(tgz('fhir.r4.ukcore.stu2', '2.0.0', [...xmlResources('nhs', 'ukcore'), ...xmlResources('nhs', 'ukcore-extra')]));
    const cdss = JSON.parse(readFileSync(new URL('../../src/messaging/conformance/CDSSExtension.json', import.meta.url), 'utf8')) as Resource;
    const bars = readNpmPackage(tgz('uk.nhsdigital.bars.r4', '1.34.0', [...xmlResources('nhs', 'bars'), cdss], { 'uk.nhsdigital.r4': '2.5.0', 'fhir.r4.ukcore.stu1': '0.5.1', 'hl7.fhir.r4.core': '4.0.1' }));
    // given together, BaRS first: its profiles name UK Core bases, so UK Core is stored first
    const pipeline = new WritePipeline({ validator });
    report = await loadPackages(pipeline, t.store, { route: 'rest', baseUrl: 'http://stepwise.test/fhir' }, [bars, ukcore], { missingDependencies: 'warn' });
  });

  it('UK Core is loaded first, and the only warnings name the dependencies BaRS declares that are not loaded', () => {
    expect(report.packages.map((p) => p.name)).toEqual(['fhir.r4.ukcore.stu2', 'uk.nhsdigital.bars.r4']);
    expect(report.issues.map((i) => i.diagnostics)).toEqual([
      expect.stringMatching(/depends on uk\.nhsdigital\.r4#2\.5\.0, which is not loaded/),
      expect.stringMatching(/depends on fhir\.r4\.ukcore\.stu1#0\.5\.1, which is not loaded/),
    ]);
  });

  it("the BaRS referral profile's snapshot is built on UK Core's ServiceRequest, not rebased onto R4", async () => {
    await validator.prepare(t.store.queryable);
    const registry = validator.validator.registry;
    const referral = registry.getStructureDefinition(BARS_REFERRAL) as StructureDefinition;
    expect(referral.baseDefinition).toBe('https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest');
    const ids = snapshotElements(referral, registry).map((e) => e.id);
    // UK Core's slice and BaRS's own constraint, in one snapshot
    expect(ids).toContain('ServiceRequest.extension:sourceOfServiceRequest');
    expect(snapshotElements(referral, registry).find((e) => e.id === 'ServiceRequest.authoredOn')?.min).toBe(1);
    // the MessageHeader profiles constrain event[x].system, which only Coding has
    expect(snapshotElements(registry.getStructureDefinition(BARS_HEADER) as StructureDefinition, registry).map((e) => e.id)).toContain('MessageHeader.event[x].system');
  });

  it('a published BaRS referral validates against the loaded profiles, and one that breaks them does not', async () => {
    const message = xml('nhs', 'bars', 'REFREQ01-referral-111-to-ED.xml') as Bundle;
    const referral = message.entry?.find((e) => e.resource?.resourceType === 'ServiceRequest')?.resource as ServiceRequest;
    expect(await validate('ServiceRequest', referral, BARS_REFERRAL)).toEqual([]);
    const { authoredOn: _dropped, ...undated } = referral;
    expect((await validate('ServiceRequest', undated, BARS_REFERRAL)).map((i) => i.expression?.[0])).toEqual(['ServiceRequest.authoredOn']);
    const header = message.entry?.find((e) => e.resource?.resourceType === 'MessageHeader')?.resource;
    expect(await validate('MessageHeader', header, BARS_HEADER)).toEqual([]);
  });
});

describe('stepwise package load', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-package-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads packages given together in any order into the embedded database, and refuses a missing dependency by name', async () => {
    const base = join(dir, 'base.tgz');
    const onIt = join(dir, 'on-it.tgz');
    writeFileSync(base, examplePackage());
    writeFileSync(onIt, tgz('example.onit', '1.0.0', [sd('PkgOnIt', 'Patient', gendered.url as string, [{ id: 'Patient', path: 'Patient' }])], { 'example.profiles': '1.0.0' }));
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) };
    const dataDir = join(dir, 'data');
    expect(await cli(['package', 'load', onIt, '--data-dir', dataDir], io)).toBe(1);
    expect(err.join('')).toMatch(/example\.onit#1\.0\.0 depends on example\.profiles#1\.0\.0, which is not loaded/);
    expect(await cli(['package', 'load', onIt, base, '--data-dir', dataDir], io)).toBe(0);
    expect(out.join('')).toMatch(/loaded example\.profiles#1\.0\.0: 3 written[\s\S]*loaded example\.onit#1\.0\.0: 1 written/);
    const { db } = await openEmbeddedDatabase(dataDir, new DiskCache(undefined));
    try {
      const store = new ResourceStore(db, systemClock);
      expect((await store.read('StructureDefinition', 'PkgOnIt')).resourceType).toBe('StructureDefinition');
      expect(((await store.read('ImplementationGuide', 'example.onit')) as ImplementationGuide).version).toBe('1.0.0');
    } finally {
      await db.close();
    }
  });
});

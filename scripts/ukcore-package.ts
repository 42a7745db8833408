import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Resource } from '@medplum/fhirtypes';
import { parseFhirXml } from '../src/fhir/xml/index.js';
import { packTgz } from './profiles/npm-package.js';

/**
 * Builds a FHIR NPM package from a folder of UK Core conformance resources in XML or JSON (a
 * checkout of NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN: structuredefinitions/, valuesets/,
 * codesystems/), for `stepwise package load` or `POST /fhir/$load-package`. UK Core is published in
 * that repository as files, not as a package; this gives it package/package.json and one JSON file
 * per resource, unchanged in content. Files that cannot be read as FHIR are reported and left out.
 *
 *   node --import tsx scripts/ukcore-package.ts <dir> [--out ukcore.tgz] [--name fhir.r4.ukcore.stu2] [--version 2.0.0]
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' } },
});
const dir = positionals[0];
if (!dir) {
  console.error('usage: ukcore-package.ts <dir with UK Core XML or JSON> [--out file.tgz] [--name package-name] [--version x.y.z]');
  process.exit(2);
}

const CONFORMANCE = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem']);

function* files(folder: string): Generator<string> {
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'examples' && !name.startsWith('.')) yield* files(path);
    } else if (/\.(xml|json)$/.test(name) && name !== 'package.json') yield path;
  }
}

const name = values.name ?? 'fhir.r4.ukcore.stu2';
const version = values.version ?? '2.0.0';
const resources: Resource[] = [];
for (const path of files(dir)) {
  try {
    const text = readFileSync(path, 'utf8');
    const resource = (path.endsWith('.xml') ? parseFhirXml(text) : JSON.parse(text)) as Resource;
    if (CONFORMANCE.has(resource.resourceType)) resources.push(resource);
  } catch (err) {
    console.error(`left out ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8');
const manifest = { name, version, description: 'UK Core conformance resources, packaged from the UK Core repository by Stepwise', fhirVersions: ['4.0.1'], dependencies: { 'hl7.fhir.r4.core': '4.0.1' }, canonical: 'https://fhir.hl7.org.uk' };
const tgz = packTgz([
  { path: 'package/package.json', content: json(manifest) },
  ...resources.map((r) => ({ path: `package/${r.resourceType}-${r.id}.json`, content: json(r) })),
]);
const out = values.out ?? `${name}-${version}.tgz`;
writeFileSync(out, tgz);
console.log(`${resources.length} resources in ${out} (${tgz.length} bytes)`);

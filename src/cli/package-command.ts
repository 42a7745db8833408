import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { systemClock } from '../clock.js';
import { DiskCache } from '../disk-cache.js';
import { FhirError } from '../errors.js';
import { PackageError, readNpmPackage, type NpmPackage } from '../fhir/npm-package.js';
import { createServerValidator } from '../fhir/server-validator.js';
import { loadPackages } from '../pipeline/package-load.js';
import { StoredConformance } from '../pipeline/stored-conformance.js';
import { WritePipeline } from '../pipeline/write-pipeline.js';
import type { Database } from '../store/database.js';
import { openEmbeddedDatabase } from '../store/embedded-database.js';
import { migrate } from '../store/migrate.js';
import { PostgresDatabase } from '../store/postgres-database.js';
import { ResourceStore } from '../store/resource-store.js';
import { ExitCode, type CommandIo } from './convert-command.js';

const USAGE = `Usage: stepwise package load <package.tgz…> [--database-url <url>] [--data-dir <dir>] [--allow-missing-dependencies]

Loads FHIR NPM packages (implementation guides such as UK Core or BaRS) into Stepwise's database
as conformance resources, through the write pipeline, all in one transaction; every server on that
database validates against them from its next request. Give a package's dependencies in the same
command (any order) unless they are loaded already. The database is --database-url (or
DATABASE_URL), else the embedded one in --data-dir (or DATA_DIR, default ./data).
Exit codes: 0 loaded, 1 refused (reason on stderr), 2 usage or file error.
`;

/** `stepwise package load uk-core.tgz bars.tgz`: the CLI form of POST /fhir/$load-package. */
export async function runPackage(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'load') {
    io.stderr(`${sub === undefined ? 'No package command given' : `Unknown package command '${sub}'`}.\n${USAGE}`);
    return ExitCode.USAGE;
  }
  let values: { 'database-url'?: string; 'data-dir'?: string; 'allow-missing-dependencies'?: boolean };
  let files: string[];
  try {
    ({ values, positionals: files } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { 'database-url': { type: 'string' }, 'data-dir': { type: 'string' }, 'allow-missing-dependencies': { type: 'boolean' } },
    }));
  } catch (err) {
    io.stderr(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return ExitCode.USAGE;
  }
  if (files.length === 0) {
    io.stderr(`No package files given.\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const packages: NpmPackage[] = [];
  for (const file of files) {
    try {
      packages.push(readNpmPackage(await readFile(file)));
    } catch (err) {
      io.stderr(`${file}: ${err instanceof PackageError || err instanceof Error ? err.message : String(err)}\n`);
      return err instanceof PackageError ? ExitCode.INVALID_INPUT : ExitCode.USAGE;
    }
  }
  const db = await openDatabase(values['database-url'] ?? process.env.DATABASE_URL, values['data-dir'] ?? process.env.DATA_DIR ?? './data');
  try {
    const store = new ResourceStore(db, systemClock);
    const pipeline = new WritePipeline({ validator: new StoredConformance(createServerValidator) });
    const origin = { route: 'rest' as const, baseUrl: '(stepwise package load)', requestor: { name: 'stepwise package load (command line)' } };
    const report = await loadPackages(pipeline, store, origin, packages, { missingDependencies: values['allow-missing-dependencies'] ? 'warn' : 'refuse' });
    for (const p of report.packages) io.stdout(`loaded ${p.name}#${p.version}: ${p.written} written, ${p.unchanged} unchanged, ${p.skipped} other files left out\n`);
    for (const i of report.issues) io.stdout(`  ${i.severity.padEnd(7)} ${i.expression?.[0] ? `${i.expression[0]}: ` : ''}${i.diagnostics}\n`);
    return ExitCode.OK;
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    for (const i of err.issues) io.stderr(`${i.severity} ${i.expression?.[0] ? `${i.expression[0]}: ` : ''}${i.diagnostics}\n`);
    return ExitCode.INVALID_INPUT;
  } finally {
    await db.close();
  }
}

async function openDatabase(url: string | undefined, dataDir: string): Promise<Database> {
  if (url) {
    const db = new PostgresDatabase({ connectionString: url, poolSize: 2, statementTimeoutMs: 0 });
    await migrate(db);
    return db;
  }
  return (await openEmbeddedDatabase(dataDir, new DiskCache(undefined))).db;
}

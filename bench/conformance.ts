import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { systemClock } from '../src/clock.js';
import { createServerValidator } from '../src/fhir/server-validator.js';
import { loadPackages } from '../src/pipeline/package-load.js';
import { StoredConformance } from '../src/pipeline/stored-conformance.js';
import { WritePipeline } from '../src/pipeline/write-pipeline.js';
import { migrate } from '../src/store/migrate.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { ResourceStore } from '../src/store/resource-store.js';
import { fmt, measure } from './stats.js';
import { dropDatabase, freshDatabase } from './support.js';

const DB_NAME = 'stepwise_bench_conformance';
/** Profiles in the generated package (BENCH_PROFILES; UK Core has about 150 StructureDefinitions, 370 resources). */
const PROFILES = Number(process.env.BENCH_PROFILES ?? 150);

/**
 * What stored conformance resources cost (issue 15), on PostgreSQL: the stamp check every write
 * and $validate make when nothing changed (sequential and at concurrency 16), the rebuild after a
 * profile is stored, and loading a package of BENCH_PROFILES profiles in one transaction.
 */
export async function benchConformance(log: (line: string) => void): Promise<Record<string, string>> {
  const db = new PostgresDatabase({ connectionString: await freshDatabase(DB_NAME), poolSize: 16 });
  const out: Record<string, string> = {};
  try {
    await migrate(db);
    const store = new ResourceStore(db, systemClock);
    const conformance = new StoredConformance(createServerValidator);
    const pipeline = new WritePipeline({ validator: conformance });
    const origin = { route: 'rest' as const, baseUrl: 'http://bench/fhir' };
    await conformance.prepare(db);
    const c1 = await measure(2000, 1, () => conformance.prepare(db));
    const c16 = await measure(5000, 16, () => conformance.prepare(db));
    out['stamp check, nothing changed (every write and $validate)'] = `p50 ${fmt(c1.p50, 3)} ms sequential; p50 ${fmt(c16.p50, 3)} ms, ${fmt(c16.perSecond, 0)} /s at concurrency 16`;
    log(out['stamp check, nothing changed (every write and $validate)']);

    const rebuilds = await measure(20, 1, async (i) => {
      await pipeline.update(store, profile(`Rebuild${i % 2}`, i % 2 === 0 ? 1 : 0), origin);
      await conformance.prepare(db);
    });
    out['a profile stored, then the rebuild of the validator'] = `p50 ${fmt(rebuilds.p50, 1)} ms`;
    log(out['a profile stored, then the rebuild of the validator']);

    const resources: Resource[] = Array.from({ length: PROFILES }, (_, i) => profile(`Pkg${i}`, i % 2));
    const t0 = performance.now();
    await loadPackages(pipeline, store, origin, [{ name: 'bench.profiles', version: '1.0.0', dependencies: {}, resources: resources.map((resource, i) => ({ file: `package/${i}.json`, resource })) }]);
    const ms = performance.now() - t0;
    out[`a package of ${PROFILES} profiles loaded in one transaction`] = `${fmt(ms / 1000, 1)} s (${fmt(ms / PROFILES, 1)} ms a profile)`;
    log(out[`a package of ${PROFILES} profiles loaded in one transaction`]);
  } finally {
    await db.close();
    await dropDatabase(DB_NAME);
  }
  return out;
}

function profile(name: string, min: number): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    id: name,
    url: `http://example.org/fhir/StructureDefinition/${name}`,
    name,
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
    derivation: 'constraint',
    differential: { element: [{ id: 'Patient', path: 'Patient' }, { id: 'Patient.birthDate', path: 'Patient.birthDate', min }] },
  };
}

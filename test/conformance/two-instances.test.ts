import { randomBytes } from 'node:crypto';
import type { OperationOutcome, StructureDefinition } from '@medplum/fhirtypes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packTgz } from '../../scripts/profiles/npm-package.js';
import { createServerValidator } from '../../src/fhir/server-validator.js';
import { constraintProfile } from '../../src/fhir/validation/test-support.js';
import { StoredConformance } from '../../src/pipeline/stored-conformance.js';
import { migrate } from '../../src/store/migrate.js';
import { PostgresDatabase } from '../../src/store/postgres-database.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { TEST_DATABASE_URL } from '../support/databases.js';

/**
 * Issue 15: two server instances on one PostgreSQL agree on stored profiles. Each has its own
 * database pool, store and validator; a profile written through one is used by the other's next
 * `$validate`, and so is a new version of it.
 */

const schema = `t_conf_${randomBytes(4).toString('hex')}`;
const instances: TestApp[] = [];
const profile = (min: number): StructureDefinition => ({ ...constraintProfile('TwoInstances', 'Patient', [{ id: 'Patient.gender', path: 'Patient.gender', min }]), id: 'TwoInstances' });
const url = profile(0).url!;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  for (let i = 0; i < 2; i++) {
    const db = new PostgresDatabase({ connectionString: TEST_DATABASE_URL, schema, poolSize: 3 });
    if (i === 0) await migrate(db);
    instances.push(await startTestApp(async () => ({ db, dispose: () => db.close() }), { validator: new StoredConformance(createServerValidator) }));
  }
});

afterAll(async () => {
  for (const t of instances) await t.close();
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

async function errorsAt(t: TestApp): Promise<string[]> {
  const res = await t.fhir('POST', `Patient/$validate?profile=${encodeURIComponent(url)}`, { resourceType: 'Patient' });
  expect(res.status).toBe(200);
  return ((await res.json()) as OperationOutcome).issue.filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
}

describe('two instances on one PostgreSQL', () => {
  it("a profile PUT through one is used by the other's next $validate, and so is its next version", async () => {
    const [a, b] = instances;
    expect(await errorsAt(b)).toEqual([expect.stringMatching(/is not known to this validator/)]);
    expect((await a.fhir('PUT', 'StructureDefinition/TwoInstances', profile(1))).status).toBe(201);
    expect(await errorsAt(b)).toEqual([expect.stringMatching(/^Patient\.gender: /)]);
    expect((await b.fhir('PUT', 'StructureDefinition/TwoInstances', profile(0))).status).toBe(200);
    expect(await errorsAt(a)).toEqual([]);
    expect(await errorsAt(b)).toEqual([]);
  });

  it("a package loaded through one (in one transaction) is used by the other's next $validate", async () => {
    const [a, b] = instances;
    const pkgProfile = { ...profile(1), id: 'FromPackage', url: `${url}FromPackage`, name: 'FromPackage' };
    const tgz = packTgz([
      { path: 'package/package.json', content: Buffer.from(JSON.stringify({ name: 'example.two', version: '1.0.0' })) },
      { path: 'package/StructureDefinition-FromPackage.json', content: Buffer.from(JSON.stringify(pkgProfile)) },
    ]);
    const loaded = await a.app.request('http://stepwise.test/fhir/$load-package', { method: 'POST', headers: { 'Content-Type': 'application/gzip' }, body: tgz });
    expect(loaded.status).toBe(200);
    const res = await b.fhir('POST', `Patient/$validate?profile=${encodeURIComponent(pkgProfile.url)}`, { resourceType: 'Patient' });
    expect(((await res.json()) as OperationOutcome).issue.filter((i) => i.severity === 'error').map((i) => i.expression?.[0])).toEqual(['Patient.gender']);
  });

  it("a write on one instance is checked against a profile stored through the other", async () => {
    const [a, b] = instances;
    await a.fhir('PUT', 'StructureDefinition/TwoInstances', profile(1));
    const refused = await b.fhir('POST', 'Patient', { resourceType: 'Patient', meta: { profile: [url] } });
    expect(refused.status).toBe(422);
    expect((await b.fhir('POST', 'Patient', { resourceType: 'Patient', gender: 'other', meta: { profile: [url] } })).status).toBe(201);
  });
});

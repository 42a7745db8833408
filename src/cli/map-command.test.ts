import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../test/support/fixtures.js';
import { main } from './main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['map', ...argv], { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('stepwise map', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepwise-map-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('maps mhsds-json to FHIR: a collection Bundle on stdout', async () => {
    const { code, out, err } = await run('--from', 'mhsds-json', '--to', 'fhir', fixturePath('mhsds', 'cmht-sample.json'));
    expect(code).toBe(0);
    expect(err).toBe('');
    const bundle = JSON.parse(out) as Bundle;
    expect(bundle.type).toBe('collection');
    expect(bundle.entry?.map((e) => e.resource?.resourceType)).toContain('ServiceRequest');
  });

  it('maps a folder of MHSDS CSVs to mhsds-json, and mhsds-json to a folder of CSVs', async () => {
    const json = await run('--from', 'mhsds-csv', '--to', 'mhsds-json', fixturePath('mhsds', 'csv'));
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.out) as { table: string }[];
    expect(rows).toHaveLength(10);
    const input = join(dir, 'rows.json');
    await writeFile(input, json.out);
    const out = join(dir, 'csv');
    const csv = await run('--from', 'mhsds-json', '--to', 'mhsds-csv', input, '--out', out);
    expect(csv.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual((await readdir(fixturePath('mhsds', 'csv'))).sort());
    expect(await readFile(join(out, 'MHS201CareContact.csv'), 'utf8')).toContain('CC0002,SR0001,CMHT-NORTH,2026-04-09,14:00:00');
  });

  it('names every defect on stderr at its place in the source, and still maps', async () => {
    const { code, out, err } = await run('--from', 'mhsds-json', '--to', 'mhsds-json', fixturePath('mhsds', 'defects.json'));
    expect(code).toBe(0);
    expect(err).toMatch(/^warning MHS001MPI\[1\]\.NHSNumber: .*Modulus 11/m);
    expect(err).toMatch(/^error \$\[4\]\.table: /m);
    expect(JSON.parse(out)).toContainEqual(expect.objectContaining({ table: 'MHS001MPI', NHSNumber: '9000000008' }));
  });

  it('a name that is no format is a usage error (2); a payload that cannot be read is refused (1)', async () => {
    const unknown = await run('--from', 'hl7v2', '--to', 'fhir', fixturePath('mhsds', 'defects.json'));
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/'hl7v2' is not a format; the formats are fhir, bars, mhsds-json, mhsds-csv, nhs111-pem/);
    const notJson = await run('--from', 'mhsds-json', '--to', 'fhir', fixturePath('mhsds', 'csv', 'MHS001MPI.csv'));
    expect(notJson.code).toBe(1);
    expect(notJson.err).toMatch(/not JSON/);
    expect((await run('--from', 'fhir', fixturePath('mhsds', 'defects.json'))).code).toBe(2);
    // nhs111-pem is read, never written (a 111 service sends, Stepwise answers by BaRS)
    const unserved = await run('--from', 'mhsds-json', '--to', 'nhs111-pem', fixturePath('mhsds', 'defects.json'));
    expect(unserved.code).toBe(2);
    expect(unserved.err).toMatch(/^error --to: The format 'nhs111-pem' cannot yet be written by this server; it can write fhir, bars, mhsds-json, mhsds-csv/m);
  });
});

describe("the README's example", () => {
  it('npx stepwise map --from mhsds-json --to fhir docs/examples/mhsds-records.json', async () => {
    const example = new URL('../../docs/examples/mhsds-records.json', import.meta.url).pathname;
    const { code, out, err } = await run('--from', 'mhsds-json', '--to', 'fhir', example);
    expect(code, err).toBe(0);
    expect((JSON.parse(out) as Bundle).entry).toHaveLength(7);
  });
});

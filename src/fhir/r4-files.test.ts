import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskCache } from '../disk-cache.js';
import { readR4StructureDefinitions, readR4Terminology } from './r4-files.js';

describe('the trimmed R4 files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-r4-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are the same read from the package and from the cache, which the first read fills', () => {
    const cache = new DiskCache(dir);
    const built = readR4StructureDefinitions(cache);
    const builtTerminology = readR4Terminology(cache);
    expect(readdirSync(dir).sort()).toEqual([expect.stringMatching(/^r4-structure-definitions-/), expect.stringMatching(/^r4-terminology-/)]);
    expect(JSON.stringify(readR4StructureDefinitions(cache))).toBe(JSON.stringify(built));
    expect(JSON.stringify(readR4Terminology(cache))).toBe(JSON.stringify(builtTerminology));
    expect(JSON.stringify(readR4StructureDefinitions())).toBe(JSON.stringify(built));
  });

  it('keep what validation reads and drop documentation and narrative', () => {
    const { types, resources } = readR4StructureDefinitions();
    const patient = resources.find((sd) => sd.url === 'http://hl7.org/fhir/StructureDefinition/Patient')!;
    const gender = patient.snapshot!.element!.find((e) => e.path === 'Patient.gender')!;
    expect(gender).toMatchObject({ min: 0, max: '1', type: [{ code: 'code' }], binding: { strength: 'required' } });
    expect(gender.definition).toBeUndefined();
    expect(patient.text).toBeUndefined();
    expect(types.some((sd) => sd.type === 'HumanName')).toBe(true);
    const { terminology } = readR4Terminology();
    expect(terminology.flat().every((r) => !('text' in r))).toBe(true);
  });

  it('are rebuilt when the cached file is damaged', () => {
    const cache = new DiskCache(dir);
    const [file] = readdirSync(dir).filter((f) => f.startsWith('r4-structure-definitions-'));
    cache.write('r4-structure-definitions', file.slice('r4-structure-definitions-'.length), '{"types": [');
    expect(readR4StructureDefinitions(cache).resources.length).toBeGreaterThan(100);
  });
});

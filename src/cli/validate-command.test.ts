import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-validate-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(['validate', ...args], { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

describe('stepwise validate', () => {
  const valid = file('valid.json', JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }] }));
  const invalidXml = file('invalid.xml', '<Patient xmlns="http://hl7.org/fhir"><gender value="F"/><birthDate value="1980-13-01"/></Patient>');

  it('exits 0 for valid files', async () => {
    const r = await run([valid]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('valid.json: valid');
  });

  it('exits 1 and prints each issue with its location, for XML too', async () => {
    const r = await run([valid, invalidXml]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/invalid\.xml: 2 error\(s\)/);
    expect(r.out).toContain('Patient.gender');
    expect(r.out).toContain('Patient.birthDate');
  });

  it('checks a named profile, and an unknown one is an error', async () => {
    const r = await run([valid, '--profile', 'https://example.org/StructureDefinition/unknown']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('https://example.org/StructureDefinition/unknown');
  });

  it('reports unreadable input and usage errors', async () => {
    expect((await run([file('broken.json', '{"resourceType":')])).code).toBe(1);
    expect((await run([])).code).toBe(2);
    expect((await run(['--frobnicate'])).code).toBe(2);
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../test/support/fixtures.js';
import { parseFhirXml } from '../fhir/xml/index.js';
import { canonicalJson } from '../fhir/xml/testing/canonical.js';
import { runConvert } from './convert-command.js';

const EXAMPLES = fixturePath('fhir', 'examples');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) }, out, err };
}

describe('stepwise convert', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepwise-convert-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('converts XML to JSON on stdout', async () => {
    const { io, out, err } = capture();
    expect(await runConvert([join(EXAMPLES, 'xml/RiskAssessment-genetic.xml'), '--to', 'json'], io)).toBe(0);
    expect(err).toEqual([]);
    const official = await readFile(join(EXAMPLES, 'json/RiskAssessment-genetic.json'), 'utf8');
    expect(canonicalJson(out.join(''))).toEqual(canonicalJson(official));
    expect(out.join('')).toContain('"probabilityDecimal": 0.001530');
  });

  it('converts JSON to XML into --out, keeping decimal precision', async () => {
    const { io, out } = capture();
    const target = join(dir, 'genetic.xml');
    expect(await runConvert([join(EXAMPLES, 'json/RiskAssessment-genetic.json'), '--to', 'xml', '--out', target], io)).toBe(0);
    expect(out).toEqual([]);
    const xml = await readFile(target, 'utf8');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<RiskAssessment xmlns="http://hl7.org/fhir">\n')).toBe(true);
    expect(xml).toContain('<probabilityDecimal value="0.001530"/>');
    expect(parseFhirXml(xml).resourceType).toBe('RiskAssessment');
  });

  it('writes compact output with --compact', async () => {
    const { io, out } = capture();
    const input = join(dir, 'patient.json');
    await writeFile(input, '{ "resourceType": "Patient", "active": true }');
    expect(await runConvert([input, '--to', 'xml', '--compact'], io)).toBe(0);
    expect(out.join('')).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>\n');
  });

  it('refuses an unsafe or invalid input with exit code 1 and the reason on stderr', async () => {
    const input = join(dir, 'xxe.xml');
    await writeFile(input, '<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"/>');
    const { io, out, err } = capture();
    expect(await runConvert([input, '--to', 'json'], io)).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('')).toMatch(/^stepwise convert: .*xxe\.xml: DOCTYPE is not allowed in FHIR XML/);
  });

  it('names the path of a structural fault in JSON input', async () => {
    const input = join(dir, 'bad.json');
    await writeFile(input, '{ "resourceType": "Patient", "name": [{ "famliy": "x" }] }');
    const { io, err } = capture();
    expect(await runConvert([input, '--to', 'xml'], io)).toBe(1);
    expect(err.join('')).toContain(": Unknown property 'famliy' (at Patient.name[0].famliy)");
  });

  it('refuses input that is neither XML nor JSON', async () => {
    const input = join(dir, 'note.txt');
    await writeFile(input, 'hello');
    const { io, err } = capture();
    expect(await runConvert([input, '--to', 'json'], io)).toBe(1);
    expect(err.join('')).toContain('Input is neither FHIR XML nor FHIR JSON');
  });

  it.each([
    [[], 'Expected exactly one input file'],
    [['a.xml'], '--to must be json or xml'],
    [['a.xml', '--to', 'yaml'], '--to must be json or xml'],
    [['a.xml', '--to', 'json', '--verbose'], "Unknown option '--verbose'"],
    [['a.xml', 'b.xml', '--to', 'json'], 'Expected exactly one input file'],
  ])('answers usage errors with exit code 2: %j', async (args, message) => {
    const { io, err } = capture();
    expect(await runConvert(args, io)).toBe(2);
    expect(err.join('')).toContain(message);
    expect(err.join('')).toContain('Usage: stepwise convert');
  });

  it('answers a missing file with exit code 2', async () => {
    const { io, err } = capture();
    expect(await runConvert([join(dir, 'missing.xml'), '--to', 'json'], io)).toBe(2);
    expect(err.join('')).toMatch(/cannot read .*missing\.xml: ENOENT/);
  });

  it('prints usage with --help', async () => {
    const { io, out } = capture();
    expect(await runConvert(['--help'], io)).toBe(0);
    expect(out.join('')).toMatch(/^Usage: stepwise convert/);
  });
});

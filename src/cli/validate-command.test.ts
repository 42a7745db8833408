import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { constraintProfile } from '../fhir/validation/test-support.js';
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

  describe('the HL7 validator options', () => {
    const scripted = file('scripted.json', JSON.stringify({ resourceType: 'Patient', name: [{ text: 'Ann <script>alert(1)</script>' }] }));
    const exampleUrl = file('example-url.json', JSON.stringify({ resourceType: 'Patient', photo: [{ contentType: 'image/png', url: 'http://example.org/photo.png' }] }));
    const markdown = file('markdown.json', JSON.stringify({ resourceType: 'Communication', status: 'completed', note: [{ text: 'Call <b>now</b>' }] }));
    const commented = file('commented.json', '// a note\n{ "resourceType": "Patient", /* inline */ "active": true }');
    const contained = file('contained.json', JSON.stringify({ resourceType: 'Patient', contained: [{ resourceType: 'Practitioner', id: 'p', gender: 'F' }] }));

    it('--security-checks refuses an HTML tag in a string', async () => {
      expect((await run([scripted])).code).toBe(0);
      const r = await run([scripted, '--security-checks']);
      expect(r.code).toBe(1);
      expect(r.out).toContain('Patient.name[0].text: The string value contains text that looks like embedded HTML tags');
    });

    it('--allow-example-urls false refuses an example URL', async () => {
      expect((await run([exampleUrl])).code).toBe(0);
      expect((await run([exampleUrl, '--allow-example-urls', 'true'])).code).toBe(0);
      const r = await run([exampleUrl, '--allow-example-urls', 'false']);
      expect(r.code).toBe(1);
      expect(r.out).toContain('Example URLs are not allowed in this context (http://example.org/photo.png)');
    });

    it('--html-in-markdown reports HTML in markdown as asked', async () => {
      expect((await run([markdown])).out).not.toContain('markdown contains');
      const warned = await run([markdown, '--html-in-markdown', 'warning']);
      expect(warned.code).toBe(0);
      expect(warned.out).toContain("appears to be an embedded HTML tag starting at '<b'");
      expect((await run([markdown, '--html-in-markdown', 'error'])).code).toBe(1);
    });

    it('--allow-comments reads JSON with comments, which is otherwise not JSON', async () => {
      expect((await run([commented])).code).toBe(1);
      const r = await run([commented, '--allow-comments']);
      expect(r.code).toBe(0);
      expect(r.out).toContain('commented.json: valid');
    });

    it('--ignore-contained does not validate contained resources', async () => {
      expect((await run([contained])).code).toBe(1);
      expect((await run([contained, '--ignore-contained'])).code).toBe(0);
    });

    it('refuses values the options do not take', async () => {
      expect((await run([valid, '--allow-example-urls', 'no'])).code).toBe(2);
      expect((await run([valid, '--html-in-markdown', 'loud'])).code).toBe(2);
    });
  });

  it('reports unreadable input and usage errors', async () => {
    expect((await run([file('broken.json', '{"resourceType":')])).code).toBe(1);
    expect((await run([])).code).toBe(2);
    expect((await run(['--frobnicate'])).code).toBe(2);
  });
});

describe('stepwise validate --ig: definitions from files, folders and packages', () => {
  // element ids left out, as profiles in the wild often do: they are made as when stored
  const namedPatient = constraintProfile('NamedPatient', 'Patient', [{ path: 'Patient.name', min: 1 } as ElementDefinition]);
  const profileUrl = namedPatient.url!;
  const igDir = mkdtempSync(join(tmpdir(), 'stepwise-ig-'));
  writeFileSync(join(igDir, 'NamedPatient.json'), JSON.stringify(namedPatient));
  writeFileSync(join(igDir, 'notes.txt'), 'not FHIR, not read');
  const nameless = file('nameless.json', JSON.stringify({ resourceType: 'Patient', meta: { profile: [profileUrl] } }));
  const named = file('named.json', JSON.stringify({ resourceType: 'Patient', meta: { profile: [profileUrl] }, name: [{ family: 'Okafor' }] }));

  it('a profile in a folder is used, by meta.profile and by --profile', async () => {
    const r = await run([nameless, named, '--ig', igDir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/nameless\.json: 1 error\(s\)/);
    expect(r.out).toContain('named.json: valid');
    expect((await run([file('plain.json', JSON.stringify({ resourceType: 'Patient' })), '--ig', join(igDir, 'NamedPatient.json'), '--profile', profileUrl])).code).toBe(1);
  });

  it('without --ig the profile is not known (a warning only, as for an unknown meta.profile)', async () => {
    const r = await run([nameless]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(profileUrl);
  });

  it('resources that are not definitions are what references resolve to, for target profiles', async () => {
    const linked = constraintProfile('ObservationOfNamedPatient', 'Observation', [
      { path: 'Observation.subject', type: [{ code: 'Reference', targetProfile: [profileUrl] }] } as ElementDefinition,
    ]);
    const bundle = file('definitions.json', JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: namedPatient }, { resource: linked }, { resource: { resourceType: 'Patient', id: 'p1' } }] }));
    const observation = file('obs.json', JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'mood' }, subject: { reference: 'Patient/p1' } }));
    const r = await run([observation, '--ig', bundle, '--profile', linked.url!]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('Unable to find a profile match for Patient/p1');
  });

  it('a file that cannot be read is named and left out; a path that does not exist is a usage error', async () => {
    const broken = file('broken.json', '{ "resourceType": ');
    const r = await run([named, '--ig', broken]);
    expect(r.err).toContain('--ig: left out');
    expect((await run([named, '--ig', join(igDir, 'missing')])).code).toBe(2);
  });

  it('--extension lets extensions under a prefix be used without a definition', async () => {
    const extended = file('extended.json', JSON.stringify({ resourceType: 'Patient', extension: [{ url: 'https://trust.example.nhs.uk/ext/ward', valueString: 'Oak' }] }));
    expect((await run([extended])).code).toBe(1);
    expect((await run([extended, '--extension', 'https://trust.example.nhs.uk/'])).code).toBe(0);
  });
});

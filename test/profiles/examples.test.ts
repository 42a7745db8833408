import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stepwiseProfileUrl } from '../../src/fhir/canonical.js';
import { examplesDir } from '../../scripts/profiles/layout.js';
import { jsonFiles, readSourceResources, readWithCanonical } from '../../scripts/profiles/source.js';
import { errorsOf, exampleFiles, summary } from './support.js';
import { serverValidator } from '../../src/fhir/server-validator.js';

/**
 * Every example in profiles/examples validates against its profile as its name says: valid-* with no
 * error, invalid-* with an error at or inside the element invalid-faults.json names for it.
 */
interface Fault {
  fault: string;
  expression: string;
}
const faults = JSON.parse(readFileSync(`${examplesDir}invalid-faults.json`, 'utf8')) as Record<string, Fault>;
const examples = exampleFiles();
const profiles = readSourceResources()
  .filter((r) => r.resourceType === 'StructureDefinition')
  .map((r) => r.id as string);

/** An issue is near the fault when it is on the named element or inside it (e.g. `X.a` for `X.a[0].b`). */
function near(expression: string | undefined, faultAt: string): boolean {
  return expression === faultAt || (expression ?? '').startsWith(faultAt + '.') || (expression ?? '').startsWith(faultAt + '[');
}

describe('profiles/examples', () => {
  it('has one valid and one invalid example per profile, and a fault for every invalid one', () => {
    for (const profile of profiles) {
      const own = examples.filter((e) => e.profile === profile);
      expect(own.filter((e) => e.valid), `valid example of ${profile}`).toHaveLength(1);
      expect(own.filter((e) => !e.valid), `invalid example of ${profile}`).toHaveLength(1);
    }
    expect(examples.map((e) => e.profile).filter((p) => !profiles.includes(p)), 'example folders naming no profile').toEqual([]);
    expect(Object.keys(faults).sort()).toEqual(examples.filter((e) => !e.valid).map((e) => e.name));
    expect(examples.every((e) => e.valid || e.name.split('/')[1].startsWith('invalid-')), 'files are valid-* or invalid-*').toBe(true);
  });

  it('only holds example folders and invalid-faults.json', () => {
    expect(jsonFiles(examplesDir)).toEqual(['invalid-faults.json']);
  });

  describe.each(examples.filter((e) => e.valid).map((e) => [e.name, e] as const))('%s', (_name, example) => {
    it('claims its profile and validates with no error', () => {
      const resource = readWithCanonical<{ meta?: { profile?: string[] } }>(example.file);
      expect(resource.meta?.profile).toEqual([stepwiseProfileUrl(example.profile)]);
      const issues = serverValidator().validate(resource);
      expect(summary(errorsOf(issues))).toEqual([]);
    });
  });

  describe.each(examples.filter((e) => !e.valid).map((e) => [e.name, e] as const))('%s', (name, example) => {
    it(`fails where the fault is: ${faults[name]?.fault}`, () => {
      const resource = readWithCanonical<{ meta?: { profile?: string[] } }>(example.file);
      expect(resource.meta?.profile).toEqual([stepwiseProfileUrl(example.profile)]);
      const errors = errorsOf(serverValidator().validate(resource));
      expect(errors.length, 'at least one error').toBeGreaterThan(0);
      const faultAt = faults[name].expression;
      expect(
        errors.every((e) => near(e.expression?.[0], faultAt)),
        `every error is at ${faultAt} (one fault per invalid example):\n${summary(errors).join('\n')}`,
      ).toBe(true);
    });
  });
});

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CANONICAL_PLACEHOLDER,
  expandCanonicalPlaceholder,
  isStepwiseCanonical,
  STEPWISE_CANONICAL_BASE,
  stepwiseCanonical,
  stepwiseProfileUrl,
} from '../../src/fhir/canonical.js';
import { loadStepwiseConformance } from '../../src/fhir/stepwise-profiles.js';

/**
 * The canonical base URL is written once, in src/fhir/canonical.ts. Code builds URLs with its
 * helpers; profiles/source and profiles/examples write `${canonical}`, which the build replaces.
 * Generated output (profiles/published, profiles/package) is checked by the staleness test.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const scanned = ['src', 'scripts', 'test', 'bench', 'bin', 'mappings', 'profiles'];
/** Written by `npm run profiles` from the constant. */
const generated = ['profiles/published/', 'profiles/package/'];
const home = 'src/fhir/canonical.ts';

function* files(dir: string): Generator<string> {
  if (generated.includes(dir + '/')) return;
  let names: string[];
  try {
    names = readdirSync(root + dir);
  } catch {
    return; // a folder that does not exist yet holds no URL
  }
  for (const name of names) {
    const path = `${dir}/${name}`;
    if (statSync(root + path).isDirectory()) yield* files(path);
    else yield path;
  }
}

describe('canonical base URL', () => {
  it(`appears literally only in ${home}`, () => {
    const offenders = scanned.flatMap((dir) => [...files(dir)]).filter((path) => path !== home && readFileSync(root + path, 'utf8').includes(STEPWISE_CANONICAL_BASE));
    expect(offenders, `use the helpers of ${home}, or ${CANONICAL_PLACEHOLDER} in profiles/`).toEqual([]);
    expect(readFileSync(root + home, 'utf8').split(STEPWISE_CANONICAL_BASE)).toHaveLength(2);
  });

  it('builds canonical URLs from the base', () => {
    expect(stepwiseCanonical('ValueSet', 'level-of-support')).toBe(`${STEPWISE_CANONICAL_BASE}/ValueSet/level-of-support`);
    expect(stepwiseProfileUrl('StepwiseReferral')).toBe(`${STEPWISE_CANONICAL_BASE}/StructureDefinition/StepwiseReferral`);
    expect(isStepwiseCanonical(`${stepwiseProfileUrl('StepwiseReferral')}|0.1.0`)).toBe(true);
    expect(isStepwiseCanonical(`${STEPWISE_CANONICAL_BASE}.evil.example/StructureDefinition/X`)).toBe(false);
    expect(expandCanonicalPlaceholder(`"${CANONICAL_PLACEHOLDER}/CodeSystem/a" "${CANONICAL_PLACEHOLDER}/CodeSystem/b"`)).toBe(
      `"${STEPWISE_CANONICAL_BASE}/CodeSystem/a" "${STEPWISE_CANONICAL_BASE}/CodeSystem/b"`,
    );
  });

  it('is the base of every published resource URL, and no placeholder is left', () => {
    for (const r of loadStepwiseConformance()) {
      expect(r.url).toBe(stepwiseCanonical(r.resourceType, r.id as string));
      expect(JSON.stringify(r)).not.toContain(CANONICAL_PLACEHOLDER);
    }
  });
});

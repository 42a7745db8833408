import { readdirSync, readFileSync } from 'node:fs';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../test/support/fixtures.js';
import { FhirError } from '../../errors.js';
import { parseFhirXml } from '../xml/index.js';
import { readFhirJson } from './json-source.js';
import { errors, summary, testValidator } from './test-support.js';

/**
 * The FHIR test corpus (test/fixtures/fhir, origins in test/fixtures/SOURCES.md): hand-written
 * validator cases and a selection of the official R4 examples. A reader turns a file into a
 * resource plus syntax issues; a format takes part when it has a reader in `readers`.
 */
const CORPUS = fixturePath('fhir');

type Reader = (text: string) => { resource?: unknown; issues: OperationOutcomeIssue[] };
const readers: Partial<Record<'json' | 'xml', Reader>> = {
  json: readFhirJson,
  xml: readFhirXml,
};

/** The XML parser refuses syntax faults with a FhirError; those issues count as the document's errors. */
function readFhirXml(text: string): { resource?: unknown; issues: OperationOutcomeIssue[] } {
  try {
    return { resource: parseFhirXml(text), issues: [] };
  } catch (err) {
    if (err instanceof FhirError) return { issues: err.issues };
    throw err;
  }
}

interface ManifestEntry {
  id: string;
  file: string;
  format: 'json' | 'xml';
  expectedValid: boolean;
  category: string;
  expectedIssue: { expression: string; category: string; invariant?: string } | null;
  notes: string;
}

const manifest = JSON.parse(readFileSync(`${CORPUS}/validator-derived/manifest.json`, 'utf8')) as ManifestEntry[];
const cases = manifest.filter((c) => readers[c.format] !== undefined);

/** Issues of the reader (syntax) and of the validator for one corpus file. */
function validateFile(entry: ManifestEntry): { read: OperationOutcomeIssue[]; validated: OperationOutcomeIssue[] } {
  const read = (readers[entry.format] as Reader)(readFileSync(`${CORPUS}/validator-derived/${entry.file}`, 'utf8'));
  return { read: read.issues, validated: read.resource === undefined ? [] : testValidator().validate(read.resource) };
}

/**
 * "Near" (validator-derived/README.md: at least one error at or near the expression): with list
 * indexes dropped and `x.ofType(T)` read as `xT`, the issue's expression is the expected element,
 * inside it, or its parent; `x[x]` matches `x` and `xType`. `(root)` and `(document)` accept any error.
 */
export function isNear(actual: string, expected: string, allowSibling = false): boolean {
  if (expected === '(root)' || expected === '(document)') return true;
  const a = actual
    .replace(/\[\d+\]/g, '')
    .replace(/\.ofType\((\w)(\w*)\)/g, (_m, first: string, rest: string) => first.toUpperCase() + rest)
    .split('.');
  const e = expected.split('.');
  // A choice element may be named as `x[x]`, `x` or `xType` on either side.
  const same = (x: string, y: string): boolean => {
    const base = y.endsWith('[x]') ? y.slice(0, -3) : y;
    return x === y || x === base || (x.startsWith(base) && /^[A-Z]/.test(x.slice(base.length)));
  };
  const prefixMatches = (n: number): boolean => {
    for (let i = 0; i < n; i++) if (!same(a[i], e[i])) return false;
    return true;
  };
  if (a.length >= e.length && prefixMatches(e.length)) return true; // the element or inside it
  if (a.length === e.length - 1 && prefixMatches(a.length)) return true; // its parent
  return allowSibling && a.length === e.length && e.length > 1 && prefixMatches(e.length - 1);
}

function mentionsInvariant(issue: OperationOutcomeIssue, key: string): boolean {
  return issue.details?.coding?.some((c) => c.code === key) === true || (issue.diagnostics ?? '').includes(key);
}

describe('validator-derived corpus', () => {
  it('has valid and invalid cases of every category for every reader, and every listed file', () => {
    expect(cases).toHaveLength(145);
    for (const format of Object.keys(readers)) {
      const ofFormat = cases.filter((c) => c.format === format);
      expect(ofFormat.filter((c) => c.expectedValid).length, format).toBeGreaterThan(0);
      expect(new Set(ofFormat.map((c) => c.category)), format).toEqual(
        new Set(['control', 'cardinality', 'binding', 'datatype', 'unknown-element', 'syntax', 'xhtml', 'reference', 'invariant']),
      );
    }
    const listed = new Set(manifest.map((c) => c.file));
    const present = ['json', 'xml'].flatMap((format) => readdirSync(`${CORPUS}/validator-derived/${format}`).map((f) => `${format}/${f}`));
    expect(present.sort()).toEqual([...listed].sort());
  });

  it.each(cases.filter((c) => c.expectedValid).map((c) => [c.id, c] as const))('%s is valid', (_id, entry) => {
    const { read, validated } = validateFile(entry);
    expect(summary(errors([...read, ...validated]))).toEqual([]);
  });

  /**
   * The validator's error must also name the invariant a case is about. A reader that refuses the
   * document cannot know invariants, and may locate an element-order fault at either element
   * involved, so its errors may also sit on a sibling.
   */
  it.each(cases.filter((c) => !c.expectedValid).map((c) => [c.id, c] as const))('%s has an error near the fault', (_id, entry) => {
    const expected = entry.expectedIssue as NonNullable<ManifestEntry['expectedIssue']>;
    const { read, validated } = validateFile(entry);
    const fromReader = errors(read).filter((i) => isNear(i.expression?.[0] ?? '(document)', expected.expression, true));
    const fromValidator = errors(validated).filter(
      (i) => isNear(i.expression?.[0] ?? '', expected.expression) && (!expected.invariant || mentionsInvariant(i, expected.invariant)),
    );
    const all = summary(errors([...read, ...validated]));
    expect([...fromReader, ...fromValidator], `${entry.notes}\nerrors: ${JSON.stringify(all, null, 1)}`).not.toEqual([]);
  });
});

describe('official R4 examples', () => {
  const files = Object.keys(readers).flatMap((format) =>
    readdirSync(`${CORPUS}/examples/${format}`)
      .filter((f) => f.endsWith(`.${format}`))
      .map((f) => [`${format}/${f}`, format as 'json' | 'xml'] as const),
  );

  it('are all present', () => {
    expect(files.filter(([, format]) => format === 'json')).toHaveLength(30);
    expect(files.filter(([, format]) => format === 'xml')).toHaveLength(30);
  });

  it.each(files)('%s has no error', (file, format) => {
    const read = (readers[format] as Reader)(readFileSync(`${CORPUS}/examples/${file}`, 'utf8'));
    expect(summary(errors([...read.issues, ...testValidator().validate(read.resource)]))).toEqual([]);
  });
});

describe('isNear', () => {
  it.each([
    ['Patient.name[0]', 'Patient.name', true],
    ['Patient.name[0].given[1]', 'Patient.name', true],
    ['Patient', 'Patient.contact', true],
    ['Condition.onsetBoolean', 'Condition.onset[x]', true],
    ['MessageHeader.event', 'MessageHeader.event[x]', true],
    ['RiskAssessment.prediction[0].probability.ofType(decimal)', 'RiskAssessment.prediction.probability', true],
    ['Condition.onset.ofType(dateTime)', 'Condition.onsetDateTime', true],
    ['Patient.gender', 'Patient.birthDate', false],
    ['Patient', 'Patient.extension.url', false],
    ['Patient.onsetx', 'Patient.onset[x]', false],
  ])('%s near %s: %s', (actual, expected, near) => {
    expect(isNear(actual, expected)).toBe(near);
  });

  it('accepts a sibling only when asked to', () => {
    expect(isNear('Patient.name', 'Patient.gender')).toBe(false);
    expect(isNear('Patient.name', 'Patient.gender', true)).toBe(true);
    expect(isNear('Flag.name', 'Patient.gender', true)).toBe(false);
  });
});

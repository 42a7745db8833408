import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../test/support/fixtures.js';
import { formatFhirJson, formatFhirXml, parseFhirJson, parseFhirXml } from './index.js';
import { canonicalJson, canonicalXml } from './testing/canonical.js';

/**
 * Official R4 examples as XML/JSON pairs (test/fixtures/fhir/examples: a selection covering 20
 * resource types and the features below; origins in test/fixtures/SOURCES.md). XML comments
 * have no JSON counterpart and whitespace between elements carries nothing, so documents are
 * compared as infosets (canonicalXml) and resources as JSON with number texts (canonicalJson).
 */
const CORPUS = fixturePath('fhir', 'examples');

interface Pair {
  resourceType: string;
  id: string;
  json: string;
  xml: string;
  features: string[];
}
const pairs = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8')) as Pair[];
const read = (file: string): string => readFileSync(join(CORPUS, file), 'utf8');

describe('official R4 examples', () => {
  it('covers 20 resource types and the features that need care', () => {
    expect(pairs).toHaveLength(30);
    expect(new Set(pairs.map((p) => p.resourceType)).size).toBe(20);
    const features = new Set(pairs.flatMap((p) => p.features));
    for (const f of ['decimal-trailing-zero', 'contained', 'primitive-extension(_x)', 'narrative', 'xml-comments(not in JSON)']) {
      expect(features).toContain(f);
    }
    expect(pairs.filter((p) => p.resourceType === 'Bundle').length).toBeGreaterThanOrEqual(5);
    expect(pairs.filter((p) => /[^\x00-\x7f]/.test(read(p.json))).length).toBeGreaterThan(0); // non-ASCII text
  });

  describe.each(pairs.map((p) => [p.xml, p] as const))('%s', (_, pair) => {
    const xml = read(pair.xml);
    const json = read(pair.json);

    it('parses XML to the official JSON', () => {
      expect(canonicalJson(formatFhirJson(parseFhirXml(xml)))).toEqual(canonicalJson(json));
    });

    it('round-trips JSON -> XML -> JSON to the official JSON', () => {
      const xmlOut = formatFhirXml(parseFhirJson(json));
      expect(canonicalJson(formatFhirJson(parseFhirXml(xmlOut)))).toEqual(canonicalJson(json));
    });

    it('round-trips XML -> JSON text -> XML to the same XML infoset', () => {
      const jsonText = formatFhirJson(parseFhirXml(xml));
      const xmlOut = formatFhirXml(parseFhirJson(jsonText), { pretty: true });
      expect(canonicalXml(xmlOut)).toEqual(canonicalXml(xml));
    });
  });
});

describe('decimal precision on the corpus', () => {
  const withTrailingZeros = pairs.filter((p) => p.features.includes('decimal-trailing-zero'));

  it.each(withTrailingZeros.map((p) => [p.xml, p] as const))('%s keeps trailing zeros both ways', (_, pair) => {
    const written = [...read(pair.xml).matchAll(/value="(-?\d+\.\d*0)"/g)].map((m) => m[1]);
    expect(written.length).toBeGreaterThan(0);
    const jsonText = formatFhirJson(parseFhirXml(read(pair.xml)));
    const xmlAgain = formatFhirXml(parseFhirJson(jsonText));
    for (const text of written) {
      expect(jsonText).toMatch(new RegExp(`:${text.replace('.', '\\.')}[,}\\]]`));
      expect(xmlAgain).toContain(`value="${text}"`);
    }
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../test/support/fixtures.js';
import { FhirError } from '../../errors.js';
import { formatFhirJson, formatFhirXml, parseFhirJson, parseFhirXml } from './index.js';
import { canonicalXml } from './testing/canonical.js';

/**
 * NHS XML samples (test/fixtures/nhs, origins in test/fixtures/SOURCES.md). Every .xml file in
 * bars/, ukcore/ and gp/ is listed here: R4 resources must round-trip; the three STU3 conformance
 * resources of GP Connect / ITK3 use elements that R4 renamed, and must be refused naming the element.
 */
const NHS = fixturePath('nhs');
const FOLDERS = ['bars', 'ukcore', 'gp'] as const;

/** STU3 files: the element R4 does not have, where the parser must stop. */
const STU3: Record<string, { path: string; element: string }> = {
  'gp/Extension-ITK-MessageHandling-2.xml': { path: 'StructureDefinition.contextType', element: 'contextType' },
  'gp/ITK-Message-Bundle-1.xml': {
    path: 'StructureDefinition.snapshot.element.binding.valueSetReference',
    element: 'valueSetReference',
  },
  'gp/MessageDefinition-ITK-GPConnectSendDocument-MessageDefinition-1.xml': {
    path: 'MessageDefinition.event',
    element: 'event',
  },
};

const files = FOLDERS.flatMap((folder) =>
  readdirSync(join(NHS, folder))
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((f) => `${folder}/${f}`),
);
const r4Files = files.filter((f) => !(f in STU3));

function parseError(xml: string): FhirError {
  try {
    parseFhirXml(xml);
  } catch (err) {
    if (err instanceof FhirError) return err;
    throw err;
  }
  throw new Error('expected parseFhirXml to throw');
}

describe('NHS XML samples', () => {
  it('lists every sample: 42 R4 and 3 STU3', () => {
    expect(files).toHaveLength(45);
    expect(Object.keys(STU3).every((f) => files.includes(f))).toBe(true);
    expect(r4Files).toHaveLength(42);
  });

  describe.each(r4Files)('%s', (file) => {
    const xml = readFileSync(join(NHS, file), 'utf8');
    const rootName = /<([A-Za-z]+)\s+xmlns="http:\/\/hl7\.org\/fhir"/.exec(xml)?.[1];

    it('parses as the R4 resource named by its root element', () => {
      expect(parseFhirXml(xml).resourceType).toBe(rootName);
    });

    it('round-trips XML -> JSON text -> XML to the same infoset', () => {
      const back = formatFhirXml(parseFhirJson(formatFhirJson(parseFhirXml(xml))));
      expect(canonicalXml(back)).toEqual(canonicalXml(xml));
    });

    it('round-trips the resource through XML unchanged', () => {
      const resource = parseFhirXml(xml);
      expect(parseFhirXml(formatFhirXml(resource, { pretty: true }))).toEqual(resource);
    });
  });

  it.each(Object.entries(STU3))('refuses STU3 %s at the element R4 lacks', (file, expected) => {
    const err = parseError(readFileSync(join(NHS, file), 'utf8'));
    expect(err.code).toBe('INVALID');
    expect(err.message).toBe(`Unknown element '${expected.element}'`);
    expect(err.issues[0].expression).toEqual([expected.path]);
  });

  it('refuses the non-FHIR 111 SOAP/CDA message crisis/nhs111-pem-safeguarding-request.xml by its root namespace', () => {
    const err = parseError(readFileSync(join(NHS, 'crisis', 'nhs111-pem-safeguarding-request.xml'), 'utf8'));
    expect(err.code).toBe('INVALID');
    expect(err.message).toMatch(/^Root element <s:Envelope> must be in the FHIR namespace/);
  });
});

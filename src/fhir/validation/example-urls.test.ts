import { describe, expect, it } from 'vitest';
import { isExampleUrl } from './example-urls.js';
import { constraintProfile, errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/**
 * Example URLs (the HL7 validator's `-allow-example-urls false`): the domains RFC 2606 reserves for
 * documentation and those the FHIR examples use, and the example OID arcs, name nothing in real
 * content: "Example URLs are not allowed in this context (…)".
 */

const validator = createR4Validator();
const message = (url: string): string => `Example URLs are not allowed in this context (${url})`;

describe('isExampleUrl', () => {
  it('knows the example domains, as a host or a path prefix, and the example OID arcs', () => {
    expect(isExampleUrl('http://repository.example.org/fhir/DocumentReference/example')).toBe(true);
    expect(isExampleUrl('https://example.com/x')).toBe(true);
    expect(isExampleUrl('http://acme.com')).toBe(true);
    expect(isExampleUrl('http://www.acme.org/ids/')).toBe(true);
    expect(isExampleUrl('mailto:someone@example.net')).toBe(true);
    expect(isExampleUrl('urn:oid:2.999.1.2')).toBe(true);
    expect(isExampleUrl('urn:oid:1.3.6.1.4.1.32473.7')).toBe(true);
  });

  it('passes other URLs', () => {
    expect(isExampleUrl('http://hl7.org/fhir/StructureDefinition/patient-birthPlace')).toBe(false);
    expect(isExampleUrl('https://fhir.nhs.uk/Id/nhs-number')).toBe(false);
    expect(isExampleUrl('https://stepwise.example/fhir')).toBe(false);
    expect(isExampleUrl('urn:oid:2.16.840.1.113883')).toBe(false);
  });
});

describe('example URLs not allowed', () => {
  const documentReference = {
    resourceType: 'DocumentReference',
    status: 'current',
    content: [{ attachment: { contentType: 'text/plain', url: 'http://repository.example.org/fhir/DocumentReference/example' } }],
  };

  it('are allowed by default', () => {
    expect(errors(validator.validate(documentReference))).toEqual([]);
  });

  it('are an error in a url, at the element', () => {
    expect(summary(errors(validator.validate(documentReference, { allowExampleUrls: false })))).toEqual([
      `error DocumentReference.content[0].attachment.url: ${message('http://repository.example.org/fhir/DocumentReference/example')}`,
    ]);
  });

  it('are an error in a uri, a canonical and an oid', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      meta: { profile: ['http://example.org/fhir/StructureDefinition/obs'] },
      identifier: [{ system: 'http://acme.com/ids', value: '1' }, { system: 'urn:ietf:rfc:3986', value: 'urn:oid:2.999.5' }],
      code: { coding: [{ system: 'http://example.com/codes', code: 'x' }] },
    };
    const where = errors(validator.validate(observation, { allowExampleUrls: false })).map((i) => i.expression?.[0]);
    expect(where.sort()).toEqual(['Observation.code.coding[0].system', 'Observation.identifier[0].system', 'Observation.meta.profile[0]']);
  });

  it('make an example.org extension without a definition unknown, and its url an example URL', () => {
    const url = 'http://example.org/fhir/StructureDefinition/something';
    const patient = { resourceType: 'Patient', birthDate: '1980-01-01', _birthDate: { extension: [{ url, valueString: 'x' }] } };
    expect(errors(validator.validate(patient, { unknownExtension: 'error' }))).toEqual([]);
    expect(summary(errors(validator.validate(patient, { unknownExtension: 'error', allowExampleUrls: false })))).toEqual([
      `error Patient.birthDate.extension[0].url: ${message(url)}`,
      `error Patient.birthDate.extension[0]: The extension ${url} could not be found so is not allowed here`,
    ]);
  });

  it('pass a URL that names a definition the registry holds, the URL a canonical resource defines, a fullUrl and #id', () => {
    const own = createR4Validator();
    const profile = { ...constraintProfile('ExamplePatient', 'Patient', []), url: 'http://example.org/fhir/StructureDefinition/ExamplePatient' };
    own.registry.addStructureDefinition(profile);
    expect(errors(own.validate({ resourceType: 'Patient', meta: { profile: [profile.url] } }, { allowExampleUrls: false }))).toEqual([]);
    const valueSet = { resourceType: 'ValueSet', url: 'http://example.org/fhir/ValueSet/x', status: 'draft' };
    expect(errors(validator.validate(valueSet, { allowExampleUrls: false }))).toEqual([]);
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'http://example.org/fhir/Patient/1', resource: { resourceType: 'Patient', id: '1' } }] };
    expect(errors(validator.validate(bundle, { allowExampleUrls: false }))).toEqual([]);
    const questionnaire = { resourceType: 'Questionnaire', status: 'draft', contained: [{ resourceType: 'ValueSet', id: 'vs', status: 'draft' }], item: [{ linkId: '1', type: 'choice', answerValueSet: '#vs' }] };
    expect(errors(validator.validate(questionnaire, { allowExampleUrls: false }))).toEqual([]);
  });
});

import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { judgeIssues } from '../../messaging/content-policy.js';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/**
 * Extensions without a definition (http://hl7.org/fhir/R4/extensibility.html#exchange) and the
 * parts of complex extensions (extensibility.html#url), as the HL7 validator reports them: "The
 * extension … could not be found so is not allowed here" (its default for `$validate` and its
 * command line), "Sub-extension url '…' is not defined by the Extension …".
 */

const validator = createR4Validator();
const UNKNOWN = 'https://vendor.example.net/fhir/StructureDefinition/favourite-colour';

function patientWith(url: string, where: 'extension' | 'modifierExtension' = 'extension'): Record<string, unknown> {
  return { resourceType: 'Patient', [where]: [{ url, valueString: 'blue' }] };
}

describe('an extension whose definition is not held', () => {
  it('is an error when unknown extensions are refused, at the extension', () => {
    const issues = validator.validate(patientWith(UNKNOWN), { unknownExtension: 'error' });
    expect(summary(errors(issues))).toEqual([`error Patient.extension[0]: The extension ${UNKNOWN} could not be found so is not allowed here`]);
  });

  it('is an error as a modifierExtension too', () => {
    const issues = validator.validate(patientWith(UNKNOWN, 'modifierExtension'), { unknownExtension: 'error' });
    expect(summary(errors(issues))).toEqual([`error Patient.modifierExtension[0]: The extension ${UNKNOWN} could not be found so is not allowed here`]);
  });

  it('is found inside primitives, data types and contained resources', () => {
    const patient = {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Organization', id: 'o', name: 'Clinic', extension: [{ url: UNKNOWN, valueBoolean: true }] }],
      managingOrganization: { reference: '#o' },
      birthDate: '1980-01-01',
      _birthDate: { extension: [{ url: UNKNOWN, valueString: 'x' }] },
      name: [{ family: 'Ng', extension: [{ url: UNKNOWN, valueString: 'x' }] }],
    };
    const where = errors(validator.validate(patient, { unknownExtension: 'error' })).map((i) => i.expression?.[0]);
    expect(where.sort()).toEqual(['Patient.birthDate.extension[0]', 'Patient.contained[0].extension[0]', 'Patient.name[0].extension[0]']);
  });

  it('is allowed from a domain the caller allows, from example domains and from the validator tools', () => {
    expect(errors(validator.validate(patientWith(UNKNOWN), { unknownExtension: 'error', extensionDomains: ['https://vendor.example.net/'] }))).toEqual([]);
    expect(errors(validator.validate(patientWith('http://example.org/fhir/StructureDefinition/x'), { unknownExtension: 'error' }))).toEqual([]);
    expect(errors(validator.validate(patientWith('http://hl7.org/fhir/tools/StructureDefinition/x'), { unknownExtension: 'error' }))).toEqual([]);
  });

  it('is a warning when unknown extensions are only noted', () => {
    const issues = validator.validate(patientWith(UNKNOWN), { unknownExtension: 'warning' });
    expect(errors(issues)).toEqual([]);
    expect(summary(issues)).toEqual([`warning Patient.extension[0]: Unknown extension ${UNKNOWN}`]);
  });

  it('is not reported when no severity is asked for, unless it claims to be a core extension', () => {
    expect(validator.validate(patientWith(UNKNOWN))).toEqual([]);
    const core = validator.validate(patientWith('http://hl7.org/fhir/StructureDefinition/patient-favouriteColour'));
    expect(errors(core)).toEqual([]);
    expect(core.map((i) => i.severity)).toEqual(['warning']);
  });

  it('a cross-version extension cannot be checked: a warning, never an error', () => {
    const issues = validator.validate(patientWith('http://hl7.org/fhir/5.0/StructureDefinition/extension-Patient.x'), { unknownExtension: 'error' });
    expect(errors(issues)).toEqual([]);
    expect(issues.map((i) => i.code)).toEqual(['not-supported']);
  });

  it('an unknown URL in the core namespace cannot be checked (the HL7 extensions pack uses it): a warning, never an error', () => {
    const issues = validator.validate(patientWith('http://hl7.org/fhir/StructureDefinition/patient-favouriteColour'), { unknownExtension: 'error' });
    expect(errors(issues)).toEqual([]);
    expect(issues.map((i) => [i.severity, i.expression?.[0]])).toEqual([['warning', 'Patient.extension[0]']]);
  });

  it('a known core extension is not reported', () => {
    const patient = { resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Leeds' } }] };
    expect(validator.validate(patient, { unknownExtension: 'error' })).toEqual([]);
  });

  it('never refuses a message: the messaging judge sees no error when no severity is asked for', () => {
    const message = {
      resourceType: 'Bundle',
      type: 'message',
      entry: [
        {
          fullUrl: 'urn:uuid:0f6cbb7c-43f5-4c38-9d2b-7d1b4e3b0b11',
          resource: {
            resourceType: 'MessageHeader',
            id: '0f6cbb7c-43f5-4c38-9d2b-7d1b4e3b0b11',
            extension: [{ url: UNKNOWN, valueString: 'x' }],
            eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-request' },
            source: { endpoint: 'https://sender.example.net' },
          },
        },
      ],
    };
    expect(judgeIssues(validator.validate(message)).refusals).toEqual([]);
  });
});

describe('the parts of a complex extension', () => {
  const animal = 'http://hl7.org/fhir/StructureDefinition/patient-animal';

  it('must be parts its definition names', () => {
    const patient = {
      resourceType: 'Patient',
      extension: [{ url: animal, extension: [{ url: 'species', valueCodeableConcept: { text: 'dog' } }, { url: 'species-x', valueString: 'cat' }] }],
    };
    expect(summary(errors(validator.validate(patient)))).toEqual([
      `error Patient.extension[0].extension[1].url: Sub-extension url 'species-x' is not defined by the Extension ${animal}`,
    ]);
  });

  it('are not checked when the complex extension is unknown, or defines no parts', () => {
    const defn: StructureDefinition = {
      resourceType: 'StructureDefinition',
      url: 'https://vendor.example.net/fhir/StructureDefinition/open',
      name: 'Open',
      status: 'draft',
      kind: 'complex-type',
      abstract: false,
      context: [{ type: 'element', expression: 'Element' }],
      type: 'Extension',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
      derivation: 'constraint',
      differential: { element: [{ id: 'Extension', path: 'Extension' }, { id: 'Extension.url', path: 'Extension.url', fixedUri: 'https://vendor.example.net/fhir/StructureDefinition/open' }] },
    };
    const own = createR4Validator();
    own.registry.addStructureDefinition(defn);
    const patient = (url: string) => ({ resourceType: 'Patient', extension: [{ url, extension: [{ url: 'anything', valueString: 'x' }] }] });
    expect(errors(own.validate(patient(defn.url!)))).toEqual([]);
    expect(errors(own.validate(patient(UNKNOWN)))).toEqual([]);
  });
});

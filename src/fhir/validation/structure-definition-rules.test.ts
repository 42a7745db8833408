import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createR4Validator } from './validator.js';

// A StructureDefinition's content (structuredefinition.html, elementdefinition.html#path), as the
// HL7 validator checks it.

const validator = createR4Validator();
const errors = (sd: Partial<StructureDefinition>) =>
  validator
    .validate({ resourceType: 'StructureDefinition', status: 'active', abstract: false, ...sd })
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
const logical = (type: string, paths: string[]): Partial<StructureDefinition> => ({
  url: 'https://stepwise.example/fhir/StructureDefinition/Referral',
  name: 'Referral',
  kind: 'logical',
  type,
  baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Base',
  derivation: 'specialization',
  snapshot: { element: paths.map((path) => ({ id: path, path, min: 0, max: '1', definition: path, short: path, base: { path, min: 0, max: '1' } })) },
});

describe('StructureDefinition content', () => {
  it('a logical model is named by an absolute URL, and its paths start with its last segment', () => {
    expect(errors(logical('https://stepwise.example/fhir/StructureDefinition/Referral', ['Referral', 'Referral.reason']))).toEqual([]);
    expect(errors(logical('Referral', ['Referral', 'Referral.reason']))).toEqual([
      'StructureDefinition.type: The type Referral is not legal because it is not defined in the FHIR specification. Other types must have a namespace on them',
    ]);
    expect(errors(logical('https://stepwise.example/fhir/StructureDefinition/Referral', ['Referral', 'Ref.reason']))).toContain(
      'StructureDefinition.snapshot.element[1]: The path Ref.reason must start with the type of the structure Referral',
    );
    // sdf-8 only compares the elements with the first one; the type names the root
    expect(errors(logical('https://stepwise.example/fhir/StructureDefinition/Referral', ['Ref', 'Ref.reason']))).toEqual([
      'StructureDefinition.snapshot.element[0]: The path Ref must start with the type of the structure Referral',
      'StructureDefinition.snapshot.element[1]: The path Ref.reason must start with the type of the structure Referral',
    ]);
  });

  it('a type profile is a profile of that type', () => {
    const profile = (code: string, typeProfile: string): Partial<StructureDefinition> => ({
      url: 'https://stepwise.example/fhir/StructureDefinition/Score',
      name: 'Score',
      kind: 'resource',
      type: 'Observation',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation',
      derivation: 'constraint',
      differential: { element: [{ id: 'Observation.valueQuantity', path: 'Observation.valueQuantity', type: [{ code, profile: [typeProfile] }] }] },
    });
    expect(errors(profile('Quantity', 'http://hl7.org/fhir/StructureDefinition/SimpleQuantity'))).toEqual([]);
    expect(errors(profile('Quantity', 'http://hl7.org/fhir/StructureDefinition/Count'))).toEqual([
      'StructureDefinition.differential.element[0].type[0].profile[0]: Profile http://hl7.org/fhir/StructureDefinition/Count is for type Count, but the Observation.valueQuantity element has type Quantity',
    ]);
  });
});

describe('a constraint keeps the fixed values of its base', () => {
  const extension = (name: string, baseDefinition: string, url: string): Partial<StructureDefinition> => ({
    url: `https://stepwise.example/fhir/StructureDefinition/${name}`,
    name,
    kind: 'complex-type',
    type: 'Extension',
    context: [{ type: 'element', expression: 'Patient' }],
    baseDefinition,
    derivation: 'constraint',
    differential: { element: [{ id: 'Extension.url', path: 'Extension.url', fixedUri: url }, { id: 'Extension.value[x]', path: 'Extension.value[x]', type: [{ code: 'string' }] }] },
  });
  validator.registry.addStructureDefinition({
    resourceType: 'StructureDefinition',
    status: 'active',
    abstract: false,
    ...extension('contact-preference', 'http://hl7.org/fhir/StructureDefinition/Extension', 'https://stepwise.example/fhir/StructureDefinition/contact-preference'),
  } as StructureDefinition);

  it('may restate it, not change it', () => {
    const base = 'https://stepwise.example/fhir/StructureDefinition/contact-preference';
    expect(errors(extension('contact-preference-2', base, base))).toEqual([]);
    expect(errors(extension('contact-preference-3', base, 'https://stepwise.example/fhir/StructureDefinition/contact-preference-3'))).toEqual([
      expect.stringMatching(/^StructureDefinition.differential.element\[0\].fixedUri: Value is "https:\/\/stepwise.example\/fhir\/StructureDefinition\/contact-preference-3" but is fixed to "https:\/\/stepwise.example\/fhir\/StructureDefinition\/contact-preference" in the base profile/),
    ]);
  });
});

describe('slicing discriminator paths', () => {
  const sliced = (path: string, discriminator: string): Partial<StructureDefinition> => ({
    url: 'https://stepwise.example/fhir/StructureDefinition/SlicedEncounter',
    name: 'SlicedEncounter',
    kind: 'resource',
    type: 'Encounter',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Encounter',
    derivation: 'constraint',
    differential: { element: [{ id: path, path, slicing: { discriminator: [{ type: 'value', path: discriminator }], rules: 'open' } }] },
  });

  it("name an element of what is sliced (its own children, or its data type's)", () => {
    expect(errors(sliced('Encounter.identifier', 'system'))).toEqual([]);
    expect(errors(sliced('Encounter.participant', 'type.coding.code'))).toEqual([]);
    expect(errors(sliced('Encounter.extension', 'url'))).toEqual([]);
    expect(errors(sliced('Encounter.extension', 'value.code'))).toEqual([]);
    expect(errors(sliced('Encounter.identifier', '$this'))).toEqual([]);
    expect(errors(sliced('Encounter.extension', 'type'))).toEqual([
      "StructureDefinition.differential.element[0].slicing.discriminator[0]: The discriminator path 'type' does not appear to be valid for the element that is being sliced 'Encounter.extension'",
    ]);
  });
});

describe('a renamed choice names one of its types', () => {
  const profile = (path: string): Partial<StructureDefinition> => ({
    url: 'https://stepwise.example/fhir/StructureDefinition/Score',
    name: 'Score',
    kind: 'resource',
    type: 'Observation',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation',
    derivation: 'constraint',
    differential: { element: [{ id: path, path }] },
  });

  it('valueQuantity, value[x] and elements that merely start like a choice are fine; valueBla is not', () => {
    expect(errors(profile('Observation.valueQuantity'))).toEqual([]);
    expect(errors(profile('Observation.value[x]'))).toEqual([]);
    expect(errors(profile('Observation.component.valueString'))).toEqual([]);
    expect(errors(profile('Observation.valueBla'))).toEqual([
      "StructureDefinition.differential.element[0]: The path must be 'Observation.value[x]' not 'Observation.valueBla': a choice is renamed only with one of its types (profiling.html#choice)",
    ]);
  });
});

describe('obligation profiles (obligation-profile, inherit-obligations)', () => {
  const EX = 'https://stepwise.example/fhir/StructureDefinition/';
  const PATIENT = 'http://hl7.org/fhir/StructureDefinition/Patient';
  const FLAG = 'http://hl7.org/fhir/tools/StructureDefinition/obligation-profile';
  const INHERITS = 'http://hl7.org/fhir/tools/StructureDefinition/inherit-obligations';
  const v = createR4Validator();
  const profile = (name: string, base: string, extension: StructureDefinition['extension'] = [], derivation: 'constraint' | 'specialization' = 'constraint'): StructureDefinition => ({
    resourceType: 'StructureDefinition',
    url: EX + name,
    name,
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    baseDefinition: base,
    derivation,
    extension,
    differential: { element: [{ id: 'Patient.active', path: 'Patient.active', mustSupport: true }] },
  });
  const flagged = [{ url: FLAG, valueBoolean: true }];
  v.registry.addStructureDefinition(profile('ReferralPatient', PATIENT));
  v.registry.addStructureDefinition(profile('SenderObligations', EX + 'ReferralPatient', flagged));
  v.registry.addStructureDefinition(profile('ReceiverObligations', PATIENT, flagged));
  v.registry.addStructureDefinition(profile('PlainProfile', EX + 'ReferralPatient'));
  const inherits = (target: string) => ({ url: INHERITS, valueCanonical: EX + target });
  const errorsOf = (sd: StructureDefinition) =>
    v
      .validate(sd)
      .filter((i) => i.severity === 'error')
      .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

  it('a profile inherits the obligations of an obligation profile on its own base', () => {
    expect(errorsOf(profile('SenderPatient', EX + 'ReferralPatient', [inherits('SenderObligations')]))).toEqual([]);
  });

  it('refuses to inherit from a profile not marked as an obligation profile, or on another base, or not held', () => {
    expect(errorsOf(profile('SenderPatient', EX + 'ReferralPatient', [inherits('SenderObligations'), inherits('PlainProfile'), inherits('ReceiverObligations'), inherits('Nowhere')]))).toEqual([
      `StructureDefinition.extension[1]: The profile '${EX}PlainProfile' is not marked as an obligation profile`,
      `StructureDefinition.extension[2]: The profile '${EX}ReceiverObligations' has a different base '${PATIENT}' from that expected '${EX}ReferralPatient'`,
      `StructureDefinition.extension[3]: The profile '${EX}Nowhere' could not be found`,
    ]);
  });

  it('an obligation profile only adds obligations, mustSupport and additional bindings to elements of its base', () => {
    const OBLIGATION = 'http://hl7.org/fhir/tools/StructureDefinition/obligation';
    const ADDITIONAL = 'http://hl7.org/fhir/tools/StructureDefinition/additional-binding';
    const obligations = (element: NonNullable<StructureDefinition['differential']>['element']) => ({ ...profile('Obligations', PATIENT, flagged), differential: { element } });
    expect(
      errorsOf(
        obligations([
          { id: 'Patient.active', path: 'Patient.active', mustSupport: true, min: 1, extension: [{ url: OBLIGATION, extension: [{ url: 'code', valueCode: 'SHALL:populate' }] }] },
          { id: 'Patient.maritalStatus', path: 'Patient.maritalStatus', binding: { strength: 'extensible', extension: [{ url: ADDITIONAL, extension: [{ url: 'purpose', valueCode: 'ui' }] }] } },
        ]),
      ),
    ).toEqual([]);
    expect(
      errorsOf(
        obligations([
          { id: 'Patient.active', path: 'Patient.active', short: 'Active?', extension: [{ url: 'https://stepwise.example/ext', valueString: 'x' }] },
          { id: 'Patient.maritalStatus', path: 'Patient.maritalStatus', binding: { strength: 'required', description: 'Marital status', extension: [{ url: ADDITIONAL, extension: [{ url: 'purpose', valueCode: 'required' }] }] } },
          { id: 'Patient.gender', path: 'Patient.gender', binding: { strength: 'required' } },
          { id: 'Patient.name', path: 'Patient.name', binding: { strength: 'example' } },
          { id: 'Patient.nickname', path: 'Patient.nickname', mustSupport: true },
        ]),
      ),
    ).toEqual([
      `StructureDefinition.differential.element[0].short: The element 'Patient.active' has a property 'short' which is not allowed in Obligation profiles`,
      `StructureDefinition.differential.element[0].extension[0]: The element 'Patient.active' has a property 'extension#https://stepwise.example/ext' which is not allowed in Obligation profiles`,
      `StructureDefinition.differential.element[1].binding.strength: The element 'Patient.maritalStatus' has a different binding strength ('required') from the base ('extensible') which is not allowed in Obligation profiles`,
      `StructureDefinition.differential.element[1].binding.description: The element 'Patient.maritalStatus' has a binding property 'description' which is not allowed in Obligation profiles`,
      `StructureDefinition.differential.element[1].binding.extension[0]: The element 'Patient.maritalStatus' has an additional binding purpose of 'required' which is not allowed in Obligation profiles`,
      `StructureDefinition.differential.element[3].binding: The element 'Patient.name' has a binding when the base element does not, and this is not allowed in Obligation profiles`,
      `StructureDefinition.differential.element[4]: The element 'Patient.nickname' has no equivalent in the profile '${PATIENT}|4.0.1' on which this Obligation Profile is based`,
    ]);
  });

  it('only a constraint can be an obligation profile', () => {
    expect(errorsOf(profile('Odd', 'http://hl7.org/fhir/StructureDefinition/DomainResource', flagged, 'specialization'))).toContain(
      'StructureDefinition: Only profiles that constrain another profile can be marked as an obligation profile',
    );
  });
});

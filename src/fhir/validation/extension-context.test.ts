import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { judgeIssues } from '../../messaging/content-policy.js';
import { isProfileIssue } from './issues.js';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/**
 * Extension contexts (http://hl7.org/fhir/R4/extensibility.html#context and
 * structuredefinition-definitions.html#StructureDefinition.context), with the HL7 validator's
 * messages: "The extension … is not allowed to be used at this point (allowed = …; this element is […])".
 */

const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const EX = 'https://stepwise.example/fhir/StructureDefinition/';

function extensionDefinition(name: string, context: StructureDefinition['context'], contextInvariant?: string[]): StructureDefinition {
  const url = EX + name;
  return {
    resourceType: 'StructureDefinition',
    url,
    name,
    status: 'draft',
    kind: 'complex-type',
    abstract: false,
    context,
    contextInvariant,
    type: 'Extension',
    baseDefinition: `${CORE}Extension`,
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Extension', path: 'Extension' },
        { id: 'Extension.url', path: 'Extension.url', fixedUri: url },
        { id: 'Extension.value[x]', path: 'Extension.value[x]', type: [{ code: 'string' }] },
      ],
    },
  };
}

const validator = createR4Validator();
for (const sd of [
  extensionDefinition('OnStrings', [{ type: 'element', expression: 'string' }]),
  extensionDefinition('OnResources', [{ type: 'element', expression: 'Resource' }]),
  extensionDefinition('OnCanonicals', [{ type: 'element', expression: 'CanonicalResource' }]),
  extensionDefinition('Parent', [{ type: 'element', expression: 'Patient' }]),
  extensionDefinition('InsideParent', [{ type: 'extension', expression: `${EX}Parent` }]),
  extensionDefinition('OnContacts', [{ type: 'fhirpath', expression: 'Patient.contact' }]),
  extensionDefinition('OnBackbones', [{ type: 'element', expression: 'BackboneElement' }, { type: 'element', expression: 'DomainResource.text' }]),
  extensionDefinition('InsideInterpreter', [{ type: 'extension', expression: `${CORE}patient-interpreterRequired` }]),
  extensionDefinition('BrokenInvariant', [{ type: 'element', expression: 'Patient' }], ['%%%']),
]) {
  validator.registry.addStructureDefinition(sd);
}
const validate = (resource: unknown) => validator.validate(resource);
const ext = (url: string, value = 'x') => ({ url, valueString: value });
const notAllowed = /^error \S+: The extension \S+ is not allowed to be used at this point \(allowed = /;

describe('element contexts', () => {
  it('allows patient-birthPlace (context Patient) on a Patient, not on a Practitioner', () => {
    const birthPlace = { url: `${CORE}patient-birthPlace`, valueAddress: { city: 'Leeds' } };
    expect(summary(validate({ resourceType: 'Patient', extension: [birthPlace] }))).toEqual([]);
    expect(summary(validate({ resourceType: 'Practitioner', extension: [birthPlace] }))).toEqual([
      `error Practitioner.extension[0]: The extension ${CORE}patient-birthPlace is not allowed to be used at this point (allowed = e:Patient; this element is [Practitioner])`,
    ]);
  });

  it('matches an element path inside a data type on a primitive: humanname-own-prefix on HumanName.family, not on given', () => {
    const ownPrefix = { extension: [{ url: `${CORE}humanname-own-prefix`, valueString: 'van' }] };
    expect(summary(validate({ resourceType: 'Patient', name: [{ family: 'Berg', _family: ownPrefix }] }))).toEqual([]);
    const issues = validate({ resourceType: 'Patient', name: [{ given: ['Anna'], _given: [ownPrefix] }] });
    expect(summary(issues)).toEqual([
      `error Patient.name[0].given[0].extension[0]: The extension ${CORE}humanname-own-prefix is not allowed to be used at this point (allowed = e:HumanName.family; this element is [Patient.name.given, HumanName.given, string])`,
    ]);
  });

  it('matches a data type wherever it is used: geolocation on any Address, and not on the resource', () => {
    const geo = { url: `${CORE}geolocation`, extension: [{ url: 'latitude', valueDecimal: 53.8 }, { url: 'longitude', valueDecimal: -1.5 }] };
    expect(errors(validate({ resourceType: 'Patient', address: [{ city: 'Leeds', extension: [geo] }] }))).toEqual([]);
    expect(errors(validate({ resourceType: 'Organization', name: 'CMHT', address: [{ city: 'Leeds', extension: [geo] }] }))).toEqual([]);
    expect(summary(errors(validate({ resourceType: 'Patient', extension: [geo] })))).toEqual([expect.stringMatching(notAllowed)]);
  });

  it('matches Address.line on the items of a repeating primitive', () => {
    const house = { extension: [{ url: `${CORE}iso21090-ADXP-houseNumber`, valueString: '12' }] };
    expect(errors(validate({ resourceType: 'Patient', address: [{ line: ['12 High St'], _line: [house] }] }))).toEqual([]);
    expect(summary(errors(validate({ resourceType: 'Patient', address: [{ city: 'Leeds', ...house }] })))).toEqual([
      expect.stringMatching(/^error Patient\.address\[0\]\.extension\[0\]: The extension .*iso21090-ADXP-houseNumber is not allowed/),
    ]);
  });

  it('lets a type context cover its specialisations: a string context allows a code, not a date', () => {
    const onStrings = { extension: [ext(`${EX}OnStrings`)] };
    expect(errors(validate({ resourceType: 'Patient', gender: 'female', _gender: onStrings }))).toEqual([]);
    expect(summary(errors(validate({ resourceType: 'Patient', birthDate: '1980-01-01', _birthDate: onStrings })))).toEqual([
      `error Patient.birthDate.extension[0]: The extension ${EX}OnStrings is not allowed to be used at this point (allowed = e:string; this element is [Patient.birthDate, date])`,
    ]);
  });

  it('takes BackboneElement to mean any backbone element, and DomainResource.text the text of any resource', () => {
    const onBackbones = ext(`${EX}OnBackbones`);
    expect(errors(validate({ resourceType: 'Patient', contact: [{ name: { family: 'Berg' }, extension: [onBackbones] }] }))).toEqual([]);
    expect(errors(validate({ resourceType: 'Patient', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>', extension: [onBackbones] } }))).toEqual([]);
    expect(summary(errors(validate({ resourceType: 'Patient', extension: [onBackbones] })))).toEqual([expect.stringMatching(/allowed = e:BackboneElement, e:DomainResource\.text; this element is \[Patient\]/)]);
  });

  it('takes Resource to mean any resource, and nothing inside one', () => {
    expect(errors(validate({ resourceType: 'Patient', extension: [ext(`${EX}OnResources`)] }))).toEqual([]);
    expect(errors(validate({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, extension: [ext(`${EX}OnResources`)] }))).toEqual([]);
    expect(errors(validate({ resourceType: 'Patient', name: [{ family: 'Berg', extension: [ext(`${EX}OnResources`)] }] }))).toHaveLength(1);
  });

  it('reads the R5 type CanonicalResource as the R4 resources with a canonical url, and nothing inside them', () => {
    const onCanonicals = ext(`${EX}OnCanonicals`);
    const codeSystem = { resourceType: 'CodeSystem', url: 'https://stepwise.example/fhir/CodeSystem/x', status: 'draft', content: 'not-present' };
    expect(errors(validate({ ...codeSystem, extension: [onCanonicals] }))).toEqual([]);
    expect(errors(validate({ resourceType: 'Questionnaire', status: 'draft', extension: [onCanonicals] }))).toEqual([]);
    expect(summary(errors(validate({ resourceType: 'Patient', extension: [onCanonicals] })))).toEqual([
      expect.stringMatching(/allowed = e:CanonicalResource; this element is \[Patient\]/),
    ]);
    expect(errors(validate({ ...codeSystem, contact: [{ name: 'x', extension: [onCanonicals] }] }))).toHaveLength(1);
  });

  it('applies in contained resources and Bundle entries by their own resource type', () => {
    const birthPlace = { url: `${CORE}patient-birthPlace`, valueAddress: { city: 'Leeds' } };
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', extension: [birthPlace] } }],
    };
    expect(errors(validate(bundle))).toEqual([]);
    const contained = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, performer: [{ reference: '#p' }], contained: [{ resourceType: 'Practitioner', id: 'p', extension: [birthPlace] }] };
    expect(summary(errors(validate(contained)))).toEqual([expect.stringMatching(/^error Observation\.contained\[0\]\.extension\[0\]: The extension .*patient-birthPlace is not allowed .*this element is \[Practitioner/)]);
  });
});

describe('modifier extensions', () => {
  it('must be used as modifierExtension, and other extensions must not', () => {
    const notModifier = { url: `${CORE}patient-birthPlace`, valueAddress: { city: 'Leeds' } };
    expect(summary(errors(validate({ resourceType: 'Patient', modifierExtension: [notModifier] })))).toEqual([
      `error Patient.modifierExtension[0]: Extension modifier mismatch: the extension element is labelled as a modifier, but the underlying extension ${CORE}patient-birthPlace is not`,
    ]);
    // an R4 core modifier extension, on its context (NutritionOrder)
    const modifier = { url: `${CORE}request-doNotPerform`, valueBoolean: true };
    const order = (extra: Record<string, unknown>) => ({ resourceType: 'NutritionOrder', status: 'active', intent: 'order', patient: { reference: 'Patient/1' }, dateTime: '2026-03-02', ...extra });
    expect(errors(validate(order({ modifierExtension: [modifier] })))).toEqual([]);
    expect(summary(errors(validate(order({ extension: [modifier] }))))).toEqual([
      `error NutritionOrder.extension[0]: Extension modifier mismatch: the extension element is not labelled as a modifier, but the underlying extension ${CORE}request-doNotPerform is (use modifierExtension)`,
    ]);
  });
});

describe('extension urls', () => {
  it('are absolute, except the parts of a complex extension', () => {
    expect(summary(errors(validate({ resourceType: 'Patient', extension: [{ url: 'birthPlace', valueString: 'Leeds' }] })))).toEqual([
      "error Patient.extension[0].url: Extension.url must be an absolute URL (not 'birthPlace'); only the extensions inside a complex extension are named by a bare name",
    ]);
    const geo = { url: `${CORE}geolocation`, extension: [{ url: 'latitude', valueDecimal: 53.8 }, { url: 'longitude', valueDecimal: -1.5 }] };
    expect(errors(validate({ resourceType: 'Patient', address: [{ city: 'Leeds', extension: [geo] }] }))).toEqual([]);
  });
});

describe('extension and fhirpath contexts', () => {
  it('allows an extension whose context is another extension only inside that one', () => {
    const parent = { url: `${EX}Parent`, extension: [ext(`${EX}InsideParent`)] };
    expect(errors(validate({ resourceType: 'Patient', extension: [parent] }))).toEqual([]);
    expect(summary(errors(validate({ resourceType: 'Patient', extension: [ext(`${EX}InsideParent`)] })))).toEqual([
      expect.stringMatching(/allowed = x:https:\/\/stepwise\.example\/fhir\/StructureDefinition\/Parent; this element is \[Patient/),
    ]);
  });

  it('counts an extension on the value of an extension as inside that extension', () => {
    const interpreter = { url: `${CORE}patient-interpreterRequired`, valueBoolean: true, _valueBoolean: { extension: [ext(`${EX}InsideInterpreter`)] } };
    expect(errors(validate({ resourceType: 'Patient', extension: [interpreter] }))).toEqual([]);
    expect(errors(validate({ resourceType: 'Patient', active: true, _active: { extension: [ext(`${EX}InsideInterpreter`)] } }))).toHaveLength(1);
  });

  it('evaluates a fhirpath context on the resource: the extension must sit on an element it selects', () => {
    const onContacts = ext(`${EX}OnContacts`);
    expect(errors(validate({ resourceType: 'Patient', contact: [{ name: { family: 'Berg' }, extension: [onContacts] }] }))).toEqual([]);
    expect(summary(errors(validate({ resourceType: 'Patient', extension: [onContacts] })))).toEqual([expect.stringMatching(/allowed = p:Patient\.contact;/)]);
  });
});

describe('contextInvariant', () => {
  const orientation = { url: `${CORE}questionnaire-choiceOrientation`, valueCode: 'horizontal' };
  const item = (type: string) => ({ linkId: '1', text: 'Mood', type, extension: [orientation] });

  it('is evaluated with FHIRPath on the element the extension is on', () => {
    expect(errors(validate({ resourceType: 'Questionnaire', status: 'active', item: [item('choice')] }))).toEqual([]);
    expect(summary(errors(validate({ resourceType: 'Questionnaire', status: 'active', item: [item('string')] })))).toEqual([
      `error Questionnaire.item[0].extension[0]: The extension ${CORE}questionnaire-choiceOrientation is not allowed to be used at this point (based on context invariant 'type='choice' or type='open-choice'')`,
    ]);
  });

  it('gives the invariant the extension as %extension (questionnaire-minOccurs: required, or a value of 0)', () => {
    const minOccurs = (value: number) => ({ url: `${CORE}questionnaire-minOccurs`, valueInteger: value });
    const q = (required: boolean, value: number) => ({ resourceType: 'Questionnaire', status: 'active', item: [{ linkId: '1', text: 'Mood', type: 'string', required, extension: [minOccurs(value)] }] });
    expect(errors(validate(q(true, 2)))).toEqual([]);
    expect(errors(validate(q(false, 0)))).toEqual([]);
    expect(summary(errors(validate(q(false, 2))))).toEqual([expect.stringMatching(/questionnaire-minOccurs is not allowed to be used at this point \(based on context invariant/)]);
  });

  it('applies to nested items too (context Questionnaire.item.item)', () => {
    const nested = { linkId: 'g', text: 'Group', type: 'group', item: [item('string')] };
    expect(summary(errors(validate({ resourceType: 'Questionnaire', status: 'active', item: [nested] })))).toEqual([
      expect.stringMatching(/^error Questionnaire\.item\[0\]\.item\[0\]\.extension\[0\]: .*based on context invariant/),
    ]);
  });

  it('is reported as a warning when it cannot be evaluated, never passed silently', () => {
    const issues = validate({ resourceType: 'Patient', extension: [ext(`${EX}BrokenInvariant`)] });
    expect(errors(issues)).toEqual([]);
    expect(summary(issues)).toEqual([expect.stringMatching(/^warning Patient\.extension\[0\]: The context invariant '%%%' of extension .* could not be evaluated here/)]);
  });
});

describe('receivers', () => {
  it('marks a context error as a profile issue, so a BaRS content resource using an extension in the wrong place is accepted with a warning', () => {
    const birthPlace = { url: `${CORE}patient-birthPlace`, valueAddress: { city: 'Leeds' } };
    const message = {
      resourceType: 'Bundle',
      type: 'message',
      entry: [
        { fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000000', resource: { resourceType: 'MessageHeader', eventCoding: { code: 'x' }, source: { endpoint: 'https://a.example' } } },
        { fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: { resourceType: 'Practitioner', extension: [birthPlace] } },
      ],
    };
    const issues = errors(validate(message));
    expect(issues).toHaveLength(1);
    expect(isProfileIssue(issues[0])).toBe(true);
    expect(judgeIssues(issues)).toEqual({ refusals: [], warnings: [expect.objectContaining({ severity: 'warning', expression: 'Bundle.entry[1].resource.extension[0]' })] });
  });
});

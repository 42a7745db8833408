import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { errorAt, errors, loadTestProfiles, readFixture, summary, TEST_PROFILE, testValidator } from './test-support.js';
import { createR4Validator } from './validator.js';

const validate = (resource: unknown, profiles?: string[]) => testValidator().validate(resource, { profiles });
const referral = () => readFixture('referral-service-request.json');

describe('profile fixtures', () => {
  it.each(['referral-service-request.json', 'triage-task.json', 'referral-message-bundle.json'])('%s conforms to its profiles without any issue', (file) => {
    expect(summary(validate(readFixture(file)))).toEqual([]);
  });
});

describe('which profiles are checked', () => {
  it('warns about an unknown profile in meta.profile, naming it, as the HL7 validator does', () => {
    const resource = { resourceType: 'Patient', meta: { profile: ['https://nowhere.example/StructureDefinition/X'] } };
    const issues = validate(resource);
    expect(errors(issues)).toEqual([]);
    const issue = issues.find((i) => i.expression?.[0] === 'Patient.meta.profile[0]');
    expect(issue).toMatchObject({ severity: 'warning', code: 'not-found' });
    expect(issue?.diagnostics).toMatch(/^Profile https:\/\/nowhere.example\/StructureDefinition\/X is not known to this validator, so the resource has not been checked against it/);
  });

  it('still checks the resource against the other declared profiles when one is unknown', () => {
    const resource = { resourceType: 'Patient', meta: { profile: ['https://nowhere.example/X', TEST_PROFILE.patient] }, birthDate: '1980-01-01' };
    const issues = validate(resource);
    expect(issues.find((i) => i.expression?.[0] === 'Patient.meta.profile[0]')?.severity).toBe('warning');
    expect(errorAt(issues, 'Patient.name')?.diagnostics).toBe('Patient.name needs at least 1 value in this profile, but has 0');
  });

  it('makes an unknown meta.profile an error when asked to (UNKNOWN_PROFILE=reject), in nested resources too', () => {
    const unknown = { meta: { profile: ['https://nowhere.example/X'] } };
    const bundle = { resourceType: 'Bundle', type: 'collection', ...unknown, entry: [{ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', ...unknown } }] };
    const issues = testValidator().validate(bundle, { unknownProfile: 'error' });
    expect(errorAt(issues, 'Bundle.meta.profile[0]')?.code).toBe('not-found');
    expect(errorAt(issues, 'Bundle.entry[0].resource.meta.profile[0]')?.code).toBe('not-found');
  });

  it('reports an unknown profile asked for in the options', () => {
    expect(summary(validate({ resourceType: 'Patient' }, ['https://nowhere.example/Y']))).toEqual([expect.stringMatching(/^error Patient: Profile https:\/\/nowhere.example\/Y is not known/)]);
  });

  it('checks profiles given in the options besides meta.profile', () => {
    const issues = validate({ resourceType: 'Patient', birthDate: '1980-01-01' }, [TEST_PROFILE.patient]);
    expect(errorAt(issues, 'Patient.name')?.diagnostics).toBe('Patient.name needs at least 1 value in this profile, but has 0');
  });

  it('rejects a profile for another resource type', () => {
    expect(errorAt(validate({ resourceType: 'Patient' }, [TEST_PROFILE.task]), 'Patient')?.diagnostics).toMatch(/is for Task resources, but this is a Patient/);
  });

  it('checks meta.profile of contained resources and Bundle entries', () => {
    const bundle = readFixture('referral-message-bundle.json');
    delete bundle.entry[2].resource.birthDate;
    expect(summary(errors(validate(bundle)))).toEqual(['error Bundle.entry[2].resource.birthDate: Patient.birthDate needs at least 1 value in this profile, but has 0']);
  });

  it('compiles a profile once, not on every validation', () => {
    const validator = createR4Validator();
    loadTestProfiles(validator);
    const registry = validator.registry;
    const lookup = registry.getStructureDefinition.bind(registry);
    const baseLookups: string[] = [];
    registry.getStructureDefinition = (url: string) => {
      if (url === 'http://hl7.org/fhir/StructureDefinition/ServiceRequest') baseLookups.push(url);
      return lookup(url);
    };
    validator.validate(referral());
    const afterFirst = baseLookups.length;
    for (let i = 0; i < 5; i++) validator.validate(referral());
    expect(afterFirst).toBeGreaterThan(0);
    expect(baseLookups.length).toBe(afterFirst);
  });

  it('picks up profiles added to the registry after the first validation', () => {
    const validator = createR4Validator();
    const url = 'https://stepwise.example/fhir/StructureDefinition/Late';
    expect(errorAt(validator.validate({ resourceType: 'Patient' }, { profiles: [url] }), 'Patient')?.code).toBe('not-found');
    validator.registry.addStructureDefinition(profile(url, 'Patient', [{ id: 'Patient.gender', path: 'Patient.gender', min: 1 }]));
    expect(errorAt(validator.validate({ resourceType: 'Patient' }, { profiles: [url] }), 'Patient.gender')?.code).toBe('required');
  });

  it('reports a profile that cannot be compiled', () => {
    const validator = createR4Validator();
    const url = 'https://stepwise.example/fhir/StructureDefinition/Broken';
    validator.registry.addStructureDefinition(profile(url, 'Patient', [{ id: 'Patient.favouriteColour', path: 'Patient.favouriteColour', min: 1 }]));
    expect(errorAt(validator.validate({ resourceType: 'Patient' }, { profiles: [url] }), 'Patient')?.diagnostics).toMatch(
      /could not be compiled: .*Patient.favouriteColour matches no element/,
    );
  });
});

describe('profile constraints', () => {
  it('narrowed cardinality', () => {
    const sr = referral();
    delete sr.requester;
    sr.category.push({ text: 'second' });
    const issues = validate(sr);
    expect(errorAt(issues, 'ServiceRequest.requester')?.code).toBe('required');
    expect(errorAt(issues, 'ServiceRequest.category')?.diagnostics).toMatch(/allows at most 1 value in this profile, but has 2/);
  });

  it('counts a primitive that only has extensions as present', () => {
    const absent = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'asked-declined' }] };
    const patient = { resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }], name: [{ family: 'Doe' }] };
    expect(errors(validate({ ...patient, _birthDate: absent }, [TEST_PROFILE.patient]))).toEqual([]);
    expect(errorAt(validate(patient, [TEST_PROFILE.patient]), 'Patient.birthDate')?.code).toBe('required');
  });

  it('narrowed choice types and reference targets', () => {
    const sr = referral();
    delete sr.occurrencePeriod;
    sr.occurrenceDateTime = '2024-03-01';
    sr.subject.reference = 'Group/1';
    const issues = validate(sr);
    expect(errorAt(issues, 'ServiceRequest.occurrence.ofType(dateTime)')?.diagnostics).toMatch(/allows only Period in this profile, not dateTime/);
    expect(errorAt(issues, 'ServiceRequest.subject')?.diagnostics).toMatch(/may refer to Patient, but refers to a Group/);
  });

  it('fixed[x] and pattern[x]', () => {
    const sr = referral();
    sr.subject.identifier.system = 'https://fhir.nhs.uk/Id/nhs-numbr';
    sr.category[0].coding[0].code = '3457005';
    const issues = validate(sr);
    expect(errorAt(issues, 'ServiceRequest.subject.identifier.system')?.diagnostics).toMatch(/must be exactly "https:\/\/fhir.nhs.uk\/Id\/nhs-number"/);
    expect(errorAt(issues, 'ServiceRequest.category[0]')?.diagnostics).toMatch(/must match \{"coding":\[\{"system":"http:\/\/snomed.info\/sct","code":"306206005"\}\]\}/);
  });

  it('invariants the profile adds', () => {
    const sr = referral();
    delete sr.authoredOn;
    expect(errorAt(validate(sr), 'ServiceRequest')?.diagnostics).toBe('Constraint tsr-1 failed: A referral records when it was authored');
  });

  it('slices by value: minimum and maximum per slice, constraints inside the slice', () => {
    const sr = referral();
    sr.identifier = sr.identifier.filter((i: { system: string }) => i.system !== 'https://fhir.nhs.uk/Id/UBRN');
    expect(errorAt(validate(sr), 'ServiceRequest.identifier')?.diagnostics).toBe('ServiceRequest.identifier:ubrn needs at least 1 value in this profile, but has 0');

    const twice = referral();
    twice.identifier.push({ system: 'https://fhir.nhs.uk/Id/UBRN' });
    const issues = validate(twice);
    expect(errorAt(issues, 'ServiceRequest.identifier')?.diagnostics).toMatch(/ubrn allows at most 1 value in this profile, but has 2/);
    expect(errorAt(issues, 'ServiceRequest.identifier[2].value')?.diagnostics).toMatch(/ServiceRequest.identifier:ubrn.value needs at least 1 value/);
  });

  it('slices codings by system and CodeableConcepts by coding.system or a coding pattern', () => {
    const validator = createR4Validator();
    const url = 'https://stepwise.example/fhir/StructureDefinition/CodedObservation';
    validator.registry.addStructureDefinition(
      profile(url, 'Observation', [
        { id: 'Observation.code.coding', path: 'Observation.code.coding', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
        { id: 'Observation.code.coding:snomed', path: 'Observation.code.coding', sliceName: 'snomed', min: 1, max: '1' },
        { id: 'Observation.code.coding:snomed.system', path: 'Observation.code.coding.system', fixedUri: 'http://snomed.info/sct' },
        { id: 'Observation.code.coding:snomed.code', path: 'Observation.code.coding.code', min: 1 },
        { id: 'Observation.category', path: 'Observation.category', slicing: { discriminator: [{ type: 'value', path: 'coding.system' }], rules: 'open' } },
        { id: 'Observation.category:local', path: 'Observation.category', sliceName: 'local', min: 1 },
        { id: 'Observation.category:local.coding.system', path: 'Observation.category.coding.system', fixedUri: 'https://stepwise.example/cs' },
        { id: 'Observation.interpretation', path: 'Observation.interpretation', slicing: { discriminator: [{ type: 'pattern', path: 'coding' }], rules: 'open' } },
        { id: 'Observation.interpretation:high', path: 'Observation.interpretation', sliceName: 'high', max: '0' },
        {
          id: 'Observation.interpretation:high.coding',
          path: 'Observation.interpretation.coding',
          patternCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'H' },
        },
      ]),
    );
    const observation = (codings: object[], category: object[], interpretation: object[] = []) => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: codings },
      category,
      ...(interpretation.length ? { interpretation } : {}),
    });
    const snomed = { system: 'http://snomed.info/sct', code: '248254009' };
    const local = { coding: [{ system: 'https://stepwise.example/cs', code: 'sleep' }] };
    const check = (o: object) => summary(errors(validator.validate(o, { profiles: [url] })));
    expect(check(observation([snomed], [local]))).toEqual([]);
    expect(check(observation([{ system: 'http://loinc.org', code: '93832-4' }], [local]))).toEqual([
      'error Observation.code.coding: Observation.code.coding:snomed needs at least 1 value in this profile, but has 0',
    ]);
    expect(check(observation([snomed, { system: 'http://snomed.info/sct' }], [local]))).toEqual([
      'error Observation.code.coding: Observation.code.coding:snomed allows at most 1 value in this profile, but has 2',
      'error Observation.code.coding[1].code: Observation.code.coding:snomed.code needs at least 1 value in this profile, but has 0',
    ]);
    expect(check(observation([snomed], [{ text: 'no coding' }]))).toEqual([
      'error Observation.category: Observation.category:local needs at least 1 value in this profile, but has 0',
    ]);
    const high = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'H', display: 'High' }] };
    expect(check(observation([snomed], [local], [high]))).toEqual([
      'error Observation.interpretation: Observation.interpretation:high allows at most 0 values in this profile, but has 1',
    ]);
  });

  it('slices Bundle entries by resource type', () => {
    const bundle = readFixture('referral-message-bundle.json');
    bundle.entry = bundle.entry.filter((e: { resource: { resourceType: string } }) => e.resource.resourceType !== 'MessageHeader');
    const issues = validate(bundle);
    expect(errorAt(issues, 'Bundle.entry')?.diagnostics).toBe('Bundle.entry:header needs at least 1 value in this profile, but has 0');
    expect(errorAt(issues, 'Bundle')?.details?.coding?.[0]?.code).toBe('bdl-12');
  });

  it('checks extensions against their definitions', () => {
    const sr = referral();
    sr.extension[0].valueCoding.code = 'fax';
    sr.extension.push({ url: TEST_PROFILE.referralRoute, valueString: 'gp' });
    const issues = validate(sr);
    expect(errorAt(issues, 'ServiceRequest.extension[0].value.ofType(Coding)')?.code).toBe('code-invalid');
    expect(errorAt(issues, 'ServiceRequest.extension[1].value.ofType(string)')?.diagnostics).toMatch(/allows only Coding/);
    expect(errorAt(issues, 'ServiceRequest.extension')?.diagnostics).toMatch(/referralRoute allows at most 1 value/);
  });

  it('reports an extension definition a profile needs but the registry lacks', () => {
    const validator = createR4Validator();
    const url = 'https://stepwise.example/fhir/StructureDefinition/NeedsExtension';
    validator.registry.addStructureDefinition(
      profile(url, 'Patient', [
        { id: 'Patient.extension', path: 'Patient.extension', slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' } },
        { id: 'Patient.extension:x', path: 'Patient.extension', sliceName: 'x', type: [{ code: 'Extension', profile: ['https://nowhere.example/ext'] }] },
      ]),
    );
    const issues = validator.validate({ resourceType: 'Patient', extension: [{ url: 'https://nowhere.example/ext', valueString: 'a' }] }, { profiles: [url] });
    expect(errorAt(issues, 'Patient.extension[0]')?.diagnostics).toMatch(/must conform to https:\/\/nowhere.example\/ext .* which is not loaded/);
  });

  it('slices extensions by url even when the differential does not say so', () => {
    const validator = createR4Validator();
    loadTestProfiles(validator);
    const url = 'https://stepwise.example/fhir/StructureDefinition/RoutedReferral';
    validator.registry.addStructureDefinition(
      profile(url, 'ServiceRequest', [
        { id: 'ServiceRequest.extension:route', path: 'ServiceRequest.extension', sliceName: 'route', min: 1, type: [{ code: 'Extension', profile: [TEST_PROFILE.referralRoute] }] },
      ]),
    );
    const request = { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/1' } };
    expect(summary(validator.validate(request, { profiles: [url] }))).toEqual([
      'error ServiceRequest.extension: ServiceRequest.extension:route needs at least 1 value in this profile, but has 0',
    ]);
    const routed = { ...request, extension: [{ url: TEST_PROFILE.referralRoute, valueCoding: { system: 'https://stepwise.example/fhir/CodeSystem/test-referral-route', code: 'self' } }] };
    expect(summary(validator.validate(routed, { profiles: [url] }))).toEqual([]);
  });

  it('closed slicing rejects values that match no slice', () => {
    const validator = createR4Validator();
    const url = 'https://stepwise.example/fhir/StructureDefinition/OnlyNhsNumber';
    validator.registry.addStructureDefinition(
      profile(url, 'Patient', [
        { id: 'Patient.identifier', path: 'Patient.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'closed' } },
        { id: 'Patient.identifier:nhs', path: 'Patient.identifier', sliceName: 'nhs' },
        { id: 'Patient.identifier:nhs.system', path: 'Patient.identifier.system', fixedUri: 'https://fhir.nhs.uk/Id/nhs-number' },
      ]),
    );
    const patient = { resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }, { system: 'urn:x', value: '1' }] };
    expect(summary(errors(validator.validate(patient, { profiles: [url] })))).toEqual([
      expect.stringMatching(/^error Patient.identifier\[1\]: Patient.identifier\[1\] matches none of the slices of Patient.identifier \(nhs\), and the slicing is closed/),
    ]);
  });

  it('warns about slices it cannot recognise instead of passing them', () => {
    const validator = createR4Validator();
    const url = 'https://stepwise.example/fhir/StructureDefinition/ProfileDiscriminator';
    validator.registry.addStructureDefinition(
      profile(url, 'Patient', [
        { id: 'Patient.identifier', path: 'Patient.identifier', slicing: { discriminator: [{ type: 'profile', path: '$this' }], rules: 'open' } },
        { id: 'Patient.identifier:a', path: 'Patient.identifier', sliceName: 'a', min: 1 },
      ]),
    );
    const issues = validator.validate({ resourceType: 'Patient', identifier: [{ value: '1' }] }, { profiles: [url] });
    expect(summary(issues)).toEqual([expect.stringMatching(/^warning Patient.identifier: .*slice a of Patient.identifier cannot be recognised/)]);
  });
});

function profile(url: string, type: string, element: NonNullable<StructureDefinition['differential']>['element']): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    url,
    name: url.slice(url.lastIndexOf('/') + 1),
    status: 'draft',
    kind: 'resource',
    abstract: false,
    type,
    baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
    derivation: 'constraint',
    differential: { element },
  };
}

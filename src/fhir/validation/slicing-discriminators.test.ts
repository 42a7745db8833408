import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { withElementIds } from './conformance-check.js';
import { constraintProfile as profile, TEST_PROFILE_BASE as base } from './test-support.js';
import { createR4Validator } from './validator.js';

// Slicing discriminators (profiling.html#discriminator) and Reference.targetProfile conformance
// (elementdefinition-definitions.html#ElementDefinition.type.targetProfile), from small hand-written
// differentials without element ids, as profiles in the wild often are.


const validator = createR4Validator();
// The server gives a differential without ids its ids before use (stored-conformance.ts); so do the tests.
const add = (sd: StructureDefinition) => validator.registry.addStructureDefinition(withElementIds(sd));
add(
  profile('PayloadByType', 'Communication', [
    { id: 'Communication.payload', path: 'Communication.payload', slicing: { discriminator: [{ type: 'type', path: 'content' }], rules: 'closed' } },
    { id: 'Communication.payload:text', path: 'Communication.payload', sliceName: 'text', max: '1' },
    { id: 'Communication.payload:text.content[x]', path: 'Communication.payload.content[x]', type: [{ code: 'string' }] },
    { id: 'Communication.payload:file', path: 'Communication.payload', sliceName: 'file', max: '1' },
    { id: 'Communication.payload:file.content[x]', path: 'Communication.payload.content[x]', type: [{ code: 'Attachment' }] },
  ]),
);
add(
  profile('ProblemsAndResults', 'List', [
    { id: 'List.entry', path: 'List.entry', slicing: { discriminator: [{ type: 'type', path: 'item.resolve()' }], rules: 'closed' } },
    { id: 'List.entry:problem', path: 'List.entry', sliceName: 'problem' },
    { id: 'List.entry:problem.item', path: 'List.entry.item', type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Condition'] }] },
    { id: 'List.entry:result', path: 'List.entry', sliceName: 'result' },
    { id: 'List.entry:result.item', path: 'List.entry.item', type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Observation'] }] },
  ]),
);
add(
  profile('Phones', 'Patient', [
    { id: 'Patient.telecom', path: 'Patient.telecom', slicing: { discriminator: [{ type: 'value', path: 'system' }, { type: 'value', path: 'use' }], rules: 'closed' } },
    { id: 'Patient.telecom:home', path: 'Patient.telecom', sliceName: 'home', max: '1' },
    { id: 'Patient.telecom:home.system', path: 'Patient.telecom.system', fixedCode: 'phone' },
    { id: 'Patient.telecom:home.use', path: 'Patient.telecom.use', fixedCode: 'home' },
    { id: 'Patient.telecom:email', path: 'Patient.telecom', sliceName: 'email', max: '1' },
    { id: 'Patient.telecom:email.system', path: 'Patient.telecom.system', fixedCode: 'email' },
    { id: 'Patient.telecom:email.use', path: 'Patient.telecom.use', max: '0' },
  ]),
);
add(
  profile('HomePhone', 'Practitioner', [
    { id: 'Practitioner.telecom', path: 'Practitioner.telecom', slicing: { discriminator: [{ type: 'value', path: 'use' }], rules: 'open' } },
    { id: 'Practitioner.telecom:home', path: 'Practitioner.telecom', sliceName: 'home', min: 1, max: '1', patternContactPoint: { system: 'phone', use: 'home' } },
  ]),
);
add(profile('NamedPatient', 'Patient', [{ path: 'Patient.name', min: 1 }, { path: 'Patient.birthDate', min: 1 }]));
add(
  profile('PatientCollection', 'Bundle', [
    { path: 'Bundle.entry', slicing: { discriminator: [{ type: 'profile', path: 'resource' }], rules: 'open' } },
    { path: 'Bundle.entry', sliceName: 'named', min: 1, max: '1' },
    { path: 'Bundle.entry.resource', type: [{ code: 'Patient', profile: [base + 'NamedPatient'] }] },
  ]),
);
add(profile('SummaryComposition', 'Composition', [{ path: 'Composition.subject', type: [{ code: 'Reference', targetProfile: [base + 'NamedPatient'] }] }]));
add(
  profile('LooseComposition', 'Composition', [
    { path: 'Composition.subject', type: [{ code: 'Reference', targetProfile: [base + 'NamedPatient', 'http://hl7.org/fhir/StructureDefinition/Patient'] }] },
  ]),
);

add(profile('NamedAddress', 'Address', [{ path: 'Address.city', min: 1 }], 'complex-type'));
add(profile('PostedAddress', 'Address', [{ path: 'Address.postalCode', min: 1 }], 'complex-type'));
add(profile('AnyAddress', 'Patient', [{ path: 'Patient.address', type: [{ code: 'Address', profile: [base + 'NamedAddress', base + 'PostedAddress'] }] }]));

add(
  profile('LinkedPatient', 'Patient', [
    { path: 'Patient.name', min: 1 },
    { path: 'Patient.link.other', type: [{ code: 'Reference', targetProfile: [base + 'LinkedPatient'] }] },
  ]),
);
add(profile('ListsOnly', 'Bundle', [{ path: 'Bundle.entry.resource', type: [{ code: 'Resource', profile: ['http://hl7.org/fhir/StructureDefinition/List'] }] }]));

const errors = (resource: unknown, name: string) =>
  validator
    .validate(resource, { profiles: [base + name] })
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

describe('slicing discriminators', () => {
  it('type at a choice element: the type of the value present', () => {
    const communication = (...payload: unknown[]) => ({ resourceType: 'Communication', status: 'completed', payload });
    expect(errors(communication({ contentString: 'hello' }, { contentAttachment: { contentType: 'text/plain', data: 'aGk=' } }), 'PayloadByType')).toEqual([]);
    expect(errors(communication({ contentString: 'a' }, { contentReference: { reference: 'Patient/1' } }), 'PayloadByType')).toEqual([
      expect.stringMatching(/^Communication.payload\[1\]: .* matches none of the slices of Communication.payload \(text, file\), and the slicing is closed/),
    ]);
  });

  it('type at item.resolve(): the type of the resource a reference points to (contained, or by its literal type)', () => {
    const list = (...refs: string[]) => ({
      resourceType: 'List',
      status: 'current',
      mode: 'working',
      contained: [
        { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/1' } },
        { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' } },
      ],
      entry: refs.map((reference) => ({ item: { reference } })),
    });
    expect(errors(list('#c1', '#o1'), 'ProblemsAndResults')).toEqual([]);
    expect(errors({ ...list('#c1', '#o1'), entry: [{ item: { reference: '#c1' } }, { item: { reference: '#o1' } }, { item: { reference: 'Observation/9' } }] }, 'ProblemsAndResults')).toEqual([]);
    expect(errors({ ...list('#c1', '#o1'), entry: [{ item: { reference: '#c1' } }, { item: { reference: '#o1' } }, { item: { reference: 'Patient/9' } }] }, 'ProblemsAndResults')).toEqual([
      expect.stringMatching(/^List.entry\[2\]: .* matches none of the slices/),
    ]);
  });

  it('value at several paths: a slice that fixes nothing at one admits anything there, and max 0 admits only absence', () => {
    const patient = (...telecom: unknown[]) => ({ resourceType: 'Patient', telecom });
    expect(errors(patient({ system: 'phone', value: '1', use: 'home' }, { system: 'email', value: 'a@b.org' }), 'Phones')).toEqual([]);
    expect(errors(patient({ system: 'email', value: 'a@b.org', use: 'work' }), 'Phones')).toEqual([expect.stringMatching(/^Patient.telecom\[0\]: .* matches none of the slices of Patient.telecom \(home, email\)/)]);
  });

  it('value given by a pattern on the slice itself (patternContactPoint {use: home} with the discriminator use)', () => {
    const practitioner = (...telecom: unknown[]) => ({ resourceType: 'Practitioner', telecom });
    expect(errors(practitioner({ system: 'phone', value: '1', use: 'home' }, { system: 'email', value: 'a@b.org', use: 'work' }), 'HomePhone')).toEqual([]);
    expect(errors(practitioner({ system: 'email', value: 'a@b.org', use: 'home' }), 'HomePhone')).toEqual([expect.stringMatching(/^Practitioner.telecom\[0\]: Practitioner.telecom:home must match/)]);
    expect(errors(practitioner({ system: 'phone', value: '1', use: 'work' }), 'HomePhone')).toEqual([expect.stringMatching(/^Practitioner.telecom: Practitioner.telecom:home needs at least 1 value/)]);
  });

  it('profile: an entry belongs to the slice whose profile its resource conforms to', () => {
    const bundle = (patient: Record<string, unknown>) => ({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', ...patient } }] });
    expect(errors(bundle({ name: [{ family: 'Jones' }], birthDate: '1980-01-01' }), 'PatientCollection')).toEqual([]);
    expect(errors(bundle({ name: [{ family: 'Jones' }] }), 'PatientCollection')).toEqual([expect.stringMatching(/^Bundle.entry: Bundle.entry:named needs at least 1 value in this profile, but has 0/)]);
  });
});

describe('Reference.targetProfile', () => {
  const document = (patient: Record<string, unknown>) => ({
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'https://example.org/fhir/Composition/c', resource: { resourceType: 'Composition', id: 'c', status: 'final', type: { text: 'summary' }, subject: { reference: 'Patient/p' }, date: '2024-01-01', author: [{ display: 'Dr A' }], title: 'Summary' } },
      { fullUrl: 'https://example.org/fhir/Patient/p', resource: { resourceType: 'Patient', id: 'p', ...patient } },
    ],
  });
  const withProfile = (bundle: ReturnType<typeof document>, name = 'SummaryComposition') => {
    (bundle.entry[0].resource as Record<string, unknown>).meta = { profile: [base + name] };
    return validator.validate(bundle).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
  };

  it('a target in the Bundle must conform to one of the target profiles', () => {
    expect(withProfile(document({ name: [{ family: 'Jones' }], birthDate: '1980-01-01' }))).toEqual([]);
    expect(withProfile(document({ name: [{ family: 'Jones' }] }))).toEqual([
      expect.stringMatching(/^Bundle.entry\[0\].resource.subject: Unable to find a profile match for Patient\/p among choices: https:\/\/stepwise.example\/fhir\/StructureDefinition\/NamedPatient/),
    ]);
  });

  it('a core definition of the target type among the choices is met by any such resource', () => {
    expect(withProfile(document({ name: [{ family: 'Jones' }] }), 'LooseComposition')).toEqual([]);
  });

  it("a target outside is read with the caller's resolveReference, and profiles that refer to themselves end", () => {
    const patients: Record<string, Record<string, unknown>> = {
      'Patient/a': { resourceType: 'Patient', id: 'a', name: [{ family: 'A' }], link: [{ other: { reference: 'Patient/b' }, type: 'seealso' }] },
      'Patient/b': { resourceType: 'Patient', id: 'b', name: [{ family: 'B' }], link: [{ other: { reference: 'Patient/a' }, type: 'seealso' }] },
      'Patient/c': { resourceType: 'Patient', id: 'c', link: [{ other: { reference: 'Patient/a' }, type: 'seealso' }] },
    };
    const resolveReference = (reference: string) => patients[reference];
    const check = (id: string) =>
      validator
        .validate({ resourceType: 'Patient', id: 'x', name: [{ family: 'X' }], link: [{ other: { reference: `Patient/${id}` }, type: 'seealso' }] }, { profiles: [base + 'LinkedPatient'], resolveReference })
        .filter((i) => i.severity === 'error')
        .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
    expect(check('a')).toEqual([]);
    expect(check('c')).toEqual([expect.stringMatching(/^Patient.link\[0\].other: Unable to find a profile match for Patient\/c among choices/)]);
  });

  it('a reader that returns a new copy each time (as a store does) still ends on a circle, and is asked once per reference', () => {
    const stored: Record<string, Record<string, unknown>> = {
      'Patient/a': { resourceType: 'Patient', id: 'a', name: [{ family: 'A' }], link: [{ other: { reference: 'Patient/b' }, type: 'seealso' }] },
      'Patient/b': { resourceType: 'Patient', id: 'b', link: [{ other: { reference: 'Patient/a' }, type: 'seealso' }] },
    };
    const asked: string[] = [];
    const resolveReference = (reference: string) => {
      asked.push(reference);
      return structuredClone(stored[reference]);
    };
    const issues = validator.validate({ resourceType: 'Patient', id: 'x', name: [{ family: 'X' }], link: [{ other: { reference: 'Patient/a' }, type: 'seealso' }] }, { profiles: [base + 'LinkedPatient'], resolveReference });
    // b has no name, so a (which links to b) does not conform, so x's link to a is an error
    expect(issues.filter((i) => i.severity === 'error').map((i) => i.expression?.[0])).toEqual(['Patient.link[0].other']);
    expect(asked.sort()).toEqual(['Patient/a', 'Patient/b']);
  });

  it('a target outside the Bundle is not fetched', () => {
    const bundle = document({});
    bundle.entry.pop();
    expect(withProfile(bundle)).toEqual([]);
  });
});

describe('a type profile names the resource type', () => {
  it('Resource with the profile of List admits only Lists', () => {
    const bundle = (resource: unknown) => ({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource }] });
    expect(errors(bundle({ resourceType: 'List', status: 'current', mode: 'working' }), 'ListsOnly')).toEqual([]);
    expect(errors(bundle({ resourceType: 'Patient' }), 'ListsOnly')).toEqual([expect.stringMatching(/^Bundle.entry\[0\].resource: The type 'Patient' is not valid - must be List/)]);
  });
});

describe('several profiles on a type', () => {
  it('a value conforms to at least one of them (elementdefinition.html#ElementDefinition.type.profile)', () => {
    expect(errors({ resourceType: 'Patient', address: [{ city: 'Leeds' }, { postalCode: 'LS1 1AA' }] }, 'AnyAddress')).toEqual([]);
    expect(errors({ resourceType: 'Patient', address: [{ line: ['1 High Street'] }] }, 'AnyAddress')).toEqual([
      expect.stringMatching(/^Patient.address\[0\]: Patient.address must conform to at least one of its profiles .* and conforms to none \(.*NamedAddress: .*city.*; .*PostedAddress: .*postalCode/),
    ]);
  });
});

import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { SnapshotError, snapshotElements } from './snapshot.js';
import { TEST_PROFILE, testValidator } from './test-support.js';

const registry = () => testValidator().registry;
const byId = (elements: ElementDefinition[], id: string) => elements.find((e) => e.id === id);

function differential(url: string, baseDefinition: string, type: string, element: ElementDefinition[]): StructureDefinition {
  return { resourceType: 'StructureDefinition', url, name: 'T', status: 'draft', kind: 'resource', abstract: false, type, baseDefinition, derivation: 'constraint', differential: { element } };
}

describe('snapshot generation from a differential (profiling.html#snapshot)', () => {
  const referral = () => snapshotElements(registry().getStructureDefinition(TEST_PROFILE.referral) as StructureDefinition, registry());

  it('keeps every base element and applies the differential', () => {
    const elements = referral();
    const base = registry().getTypeDefinition('ServiceRequest')?.snapshot?.element ?? [];
    for (const e of base) expect(byId(elements, e.id as string), e.id).toBeDefined();
    expect(byId(elements, 'ServiceRequest.requester')?.min).toBe(1);
    expect(byId(elements, 'ServiceRequest.occurrence[x]')?.type?.map((t) => t.code)).toEqual(['Period']);
  });

  it('adds constraints to those of the base', () => {
    expect(byId(referral(), 'ServiceRequest')?.constraint?.map((c) => c.key)).toEqual(['dom-2', 'dom-3', 'dom-4', 'dom-5', 'dom-6', 'prr-1', 'tsr-1']);
  });

  it('creates slices with the children of the sliced element, after it', () => {
    const elements = referral();
    const ids = elements.map((e) => e.id);
    expect(byId(elements, 'ServiceRequest.identifier:ubrn')?.sliceName).toBe('ubrn');
    expect(byId(elements, 'ServiceRequest.identifier:ubrn.system')?.fixedUri).toBe('https://fhir.nhs.uk/Id/UBRN');
    expect(byId(elements, 'ServiceRequest.identifier:ubrn.use')?.path).toBe('ServiceRequest.identifier.use');
    expect(ids.indexOf('ServiceRequest.identifier:ubrn')).toBeGreaterThan(ids.indexOf('ServiceRequest.identifier'));
  });

  it('expands data types to constrain inside them', () => {
    const elements = referral();
    expect(byId(elements, 'ServiceRequest.subject.identifier')?.min).toBe(1);
    expect(byId(elements, 'ServiceRequest.subject.identifier.system')?.fixedUri).toBe('https://fhir.nhs.uk/Id/nhs-number');
    expect(byId(elements, 'ServiceRequest.subject.display')?.path).toBe('ServiceRequest.subject.display');
  });

  it('reads a choice named by its type (valueQuantity) as a constraint on value[x]', () => {
    const sd = differential('http://x/Obs', 'http://hl7.org/fhir/StructureDefinition/Observation', 'Observation', [
      { id: 'Observation.valueQuantity', path: 'Observation.valueQuantity', min: 1 },
    ]);
    const value = byId(snapshotElements(sd, registry()), 'Observation.value[x]');
    expect([value?.min, value?.type?.map((t) => t.code)]).toEqual([1, ['Quantity']]);
  });

  it('builds on another profile', () => {
    const sd = differential('http://x/P2', TEST_PROFILE.patient, 'Patient', [{ id: 'Patient.gender', path: 'Patient.gender', min: 1 }]);
    const elements = snapshotElements(sd, registry());
    expect(byId(elements, 'Patient.identifier:nhsNumber.system')?.fixedUri).toBe('https://fhir.nhs.uk/Id/nhs-number');
    expect(byId(elements, 'Patient.gender')?.min).toBe(1);
  });

  it('returns a given snapshot as it is', () => {
    const core = registry().getTypeDefinition('Patient') as StructureDefinition;
    expect(snapshotElements(core, registry())).toBe(core.snapshot?.element);
  });

  it('does not change the base definitions', () => {
    referral();
    expect(byId(registry().getTypeDefinition('ServiceRequest')?.snapshot?.element ?? [], 'ServiceRequest.requester')?.min).toBe(0);
  });

  it('constrains a child of a choice in the one complex type that has it (event[x].system: Coding)', () => {
    const sd = differential('http://x/MH', 'http://hl7.org/fhir/StructureDefinition/MessageHeader', 'MessageHeader', [
      { id: 'MessageHeader.event[x].system', path: 'MessageHeader.event[x].system', fixedUri: 'http://x/events' },
    ]);
    const elements = snapshotElements(sd, registry());
    expect(byId(elements, 'MessageHeader.event[x].system')?.fixedUri).toBe('http://x/events');
    expect(byId(elements, 'MessageHeader.event[x]')?.type?.map((t) => t.code)).toEqual(['Coding', 'uri']);
  });

  it('expands an element typed with the profile being generated with its core type, so a self-referencing profile ends', () => {
    const url = 'http://x/SelfExt';
    const sd = differential(url, 'http://hl7.org/fhir/StructureDefinition/Extension', 'Extension', [
      { id: 'Extension.extension:child', path: 'Extension.extension', sliceName: 'child', type: [{ code: 'Extension', profile: [url] }] },
      { id: 'Extension.extension:child.url', path: 'Extension.extension.url', fixedUri: url },
    ]);
    const r = registry().copy();
    r.addStructureDefinition(sd);
    expect(byId(snapshotElements(sd, r), 'Extension.extension:child.url')?.fixedUri).toBe(url);
  });

  it('names the differential element at fault, or baseDefinition for a base chain that comes back to itself', () => {
    const r = registry().copy();
    const root = [{ id: 'Patient', path: 'Patient' }];
    const a = differential('http://x/LoopA', 'http://x/LoopB', 'Patient', root);
    r.addStructureDefinition(a).addStructureDefinition(differential('http://x/LoopB', 'http://x/LoopA', 'Patient', root));
    expect(() => snapshotElements(a, r)).toThrow(/comes back to itself/);
    try {
      snapshotElements(a, r);
    } catch (err) {
      expect((err as SnapshotError).element).toBe('baseDefinition');
    }
    const bad = differential('http://x/Bad', 'http://hl7.org/fhir/StructureDefinition/Patient', 'Patient', [{ id: 'Patient', path: 'Patient' }, { id: 'Patient.colour', path: 'Patient.colour' }]);
    expect(() => snapshotElements(bad, r)).toThrow(expect.objectContaining({ differentialIndex: 1 }));
  });

  it.each([
    ['an unknown base', differential('http://x/A', 'http://nowhere/B', 'Patient', []), /is based on http:\/\/nowhere\/B, which is not loaded/],
    ['an unknown element', differential('http://x/C', 'http://hl7.org/fhir/StructureDefinition/Patient', 'Patient', [{ id: 'Patient.colour', path: 'Patient.colour' }]), /Patient.colour matches no element/],
    ['re-slicing', differential('http://x/D', 'http://hl7.org/fhir/StructureDefinition/Patient', 'Patient', [{ id: 'Patient.identifier:a/b', path: 'Patient.identifier', sliceName: 'a/b' }]), /re-slicing/],
  ])('fails clearly for %s', (_what, sd, message) => {
    expect(() => snapshotElements(sd, registry())).toThrow(SnapshotError);
    expect(() => snapshotElements(sd, registry())).toThrow(message);
  });
});

describe('a binding in the differential states what it changes', () => {
  it('a new value set keeps the base binding strength, and the base description is not kept', () => {
    const r = registry();
    const profile = differential('https://stepwise.example/fhir/StructureDefinition/MaritalPatient', 'http://hl7.org/fhir/StructureDefinition/Patient', 'Patient', [
      { id: 'Patient.maritalStatus', path: 'Patient.maritalStatus', binding: { valueSet: 'https://stepwise.example/fhir/ValueSet/marital' } as ElementDefinition['binding'] },
    ]);
    const binding = byId(snapshotElements(profile, r), 'Patient.maritalStatus')?.binding;
    expect(binding?.strength).toBe('extensible'); // R4 Patient.maritalStatus
    expect(binding?.valueSet).toBe('https://stepwise.example/fhir/ValueSet/marital');
    expect(binding?.description).toBeUndefined();
    // R4 Patient.maritalStatus names its binding (elementdefinition-bindingName): that names the base's, not this one
    expect(binding?.extension).toBeUndefined();
  });
});

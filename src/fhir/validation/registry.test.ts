import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { ConformanceRegistry } from './registry.js';

const sd = (url: string, type: string, derivation: 'specialization' | 'constraint', kind: StructureDefinition['kind'] = 'resource'): StructureDefinition => ({
  resourceType: 'StructureDefinition',
  url,
  name: type,
  status: 'active',
  kind,
  abstract: false,
  type,
  derivation,
  snapshot: { element: [{ id: type, path: type }] },
});

describe('ConformanceRegistry', () => {
  it('finds resources by canonical URL, ignoring a version suffix', () => {
    const registry = new ConformanceRegistry().addValueSet({ resourceType: 'ValueSet', url: 'http://x/vs', status: 'active' });
    expect(registry.getValueSet('http://x/vs|1.0')?.url).toBe('http://x/vs');
  });

  it('tells core types from profiles of them', () => {
    const registry = new ConformanceRegistry()
      .addStructureDefinition(sd('http://hl7.org/fhir/StructureDefinition/Patient', 'Patient', 'specialization'))
      .addStructureDefinition(sd('http://x/MyPatient', 'Patient', 'constraint'));
    expect(registry.getTypeDefinition('Patient')?.url).toBe('http://hl7.org/fhir/StructureDefinition/Patient');
    expect(registry.isResourceType('Patient')).toBe(true);
    expect(registry.getStructureDefinition('http://x/MyPatient')?.derivation).toBe('constraint');
  });

  it('changes its revision on every addition', () => {
    const registry = new ConformanceRegistry();
    const before = registry.revision;
    registry.addCodeSystem({ resourceType: 'CodeSystem', url: 'http://x/cs', status: 'active', content: 'complete' });
    expect(registry.revision).toBeGreaterThan(before);
  });

  it('refuses definitions it could not use', () => {
    expect(() => new ConformanceRegistry().addStructureDefinition({ ...sd('http://x/a', 'Patient', 'constraint'), snapshot: undefined })).toThrow(/neither a snapshot nor a differential/);
    expect(() => new ConformanceRegistry().addValueSet({ resourceType: 'ValueSet', status: 'active' })).toThrow(/url/);
  });

  it('adds the conformance resources of a Bundle and ignores the rest', () => {
    const registry = new ConformanceRegistry().addBundle({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'CodeSystem', url: 'http://x/cs', status: 'active', content: 'complete' } }, { resource: { resourceType: 'Patient' } }],
    });
    expect(registry.getCodeSystem('http://x/cs')).toBeDefined();
  });
});

import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isStepwiseCanonical, stepwiseProfileUrl, stepwiseValueSetUrl } from './canonical.js';
import { addStepwiseProfiles, loadStepwiseConformance, readDependencies, type StepwiseConformanceResource } from './stepwise-profiles.js';
import { ConformanceRegistry } from './validation/registry.js';

describe('loadStepwiseConformance', () => {
  const resources = loadStepwiseConformance();

  it('reads the published StructureDefinitions (with snapshots), ValueSets and CodeSystems, all Stepwise canonicals', () => {
    const ofType = (type: string): StepwiseConformanceResource[] => resources.filter((r) => r.resourceType === type);
    const profiles = ofType('StructureDefinition') as StructureDefinition[];
    expect(profiles.map((r) => r.id)).toEqual([
      'StepwiseCarePlan',
      'StepwiseHandoverTask',
      'StepwiseMessageHeader',
      'StepwiseOrganization',
      'StepwisePatient',
      'StepwiseReferral',
      'StepwiseReferralMessage',
      'StepwiseRiskFlag',
      'StepwiseTriageTask',
    ]);
    expect(ofType('ValueSet').length).toBeGreaterThanOrEqual(9);
    expect(ofType('CodeSystem').length).toBeGreaterThanOrEqual(8);
    expect(resources.every((r) => isStepwiseCanonical(r.url as string))).toBe(true);
    expect(profiles.every((sd) => (sd.snapshot?.element?.length ?? 0) > 0)).toBe(true);
  });

  it('does not serve the UK Core dependencies as Stepwise resources', () => {
    const urls = new Set(resources.map((r) => r.url));
    for (const dependency of readDependencies()) expect(urls.has((dependency as { url?: string }).url)).toBe(false);
  });
});

describe('addStepwiseProfiles', () => {
  it('registers the profiles, their terminology and the UK Core extensions they use', () => {
    const registry = addStepwiseProfiles(new ConformanceRegistry());
    expect(registry.getStructureDefinition(stepwiseProfileUrl('StepwiseTriageTask'))?.type).toBe('Task');
    expect(registry.getStructureDefinition(`${stepwiseProfileUrl('StepwiseReferral')}|0.1.0`)?.type).toBe('ServiceRequest');
    expect(registry.getValueSet(stepwiseValueSetUrl('level-of-support'))?.name).toBe('StepwiseLevelOfSupport');
    expect(registry.getStructureDefinition('https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus')).toBeDefined();
  });
});

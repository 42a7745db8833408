import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { STEPWISE_CONFORMANCE_VERSION } from '../../src/fhir/canonical.js';
import { loadStepwiseConformance, readDependencies } from '../../src/fhir/stepwise-profiles.js';
import { errorsOf, summary } from './support.js';
import { serverValidator } from '../../src/fhir/server-validator.js';

/** The published resources are themselves valid R4, and each snapshot covers its differential. */
const published = loadStepwiseConformance();
const profiles = published.filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');

describe('published conformance resources', () => {
  it.each([...published, ...readDependencies()].map((r) => [`${r.resourceType}/${r.id}`, r] as const))('%s is valid R4', (_name, resource) => {
    expect(summary(errorsOf(serverValidator().validate(resource)))).toEqual([]);
  });

  it('all carry the conformance version and draft status', () => {
    expect(published.every((r) => r.version === STEPWISE_CONFORMANCE_VERSION && r.status === 'draft')).toBe(true);
  });

  it.each(profiles.map((sd) => [sd.id, sd] as const))('%s: the snapshot has every differential element, ids unique, rooted at its type', (_id, sd) => {
    const ids = sd.snapshot?.element?.map((e) => e.id) ?? [];
    expect(ids[0]).toBe(sd.type);
    expect(new Set(ids).size).toBe(ids.length);
    const missing = (sd.differential?.element ?? []).map((e) => e.id).filter((id) => !ids.includes(id));
    expect(missing).toEqual([]);
    for (const diff of sd.differential?.element ?? []) {
      const snap = sd.snapshot?.element?.find((e) => e.id === diff.id);
      if (diff.min !== undefined) expect(snap?.min, `${diff.id} min`).toBe(diff.min);
      if (diff.max !== undefined) expect(snap?.max, `${diff.id} max`).toBe(diff.max);
      if (diff.binding) expect(snap?.binding, `${diff.id} binding`).toEqual(diff.binding);
    }
  });
});

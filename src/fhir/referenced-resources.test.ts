import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { parseLocalReference, ReferencedResources } from './referenced-resources.js';

describe('following references to the resources a message carries', () => {
  it('reads each reference once, found or not, and gives the resources in the order first named', async () => {
    const reads: string[] = [];
    const stored: Record<string, Resource> = { 'Organization/team': { resourceType: 'Organization', id: 'team' }, 'Patient/p': { resourceType: 'Patient', id: 'p' } };
    const carried = new ReferencedResources(async (type, id) => {
      reads.push(`${type}/${id}`);
      return stored[`${type}/${id}`];
    });
    await carried.visit({ reference: 'Organization/team' });
    await carried.visit('Organization/team');
    await carried.visit({ reference: 'Practitioner/gone' });
    await carried.visit({ reference: 'Practitioner/gone' });
    carried.add({ resourceType: 'Consent', id: 'c' } as Resource);
    expect((await carried.visit({ reference: 'Patient/p' }))?.id).toBe('p');
    expect(reads).toEqual(['Organization/team', 'Practitioner/gone', 'Patient/p']);
    expect(carried.resources.map((r) => `${r.resourceType}/${r.id}`)).toEqual(['Organization/team', 'Consent/c', 'Patient/p']);
  });

  it('follows literal relative references only', () => {
    expect(parseLocalReference({ reference: 'Patient/1' })).toEqual({ key: 'Patient/1', type: 'Patient', id: '1' });
    for (const ref of ['http://x/fhir/Patient/1', 'Patient/1/_history/2', '#c', '1', '']) expect(parseLocalReference(ref), ref).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { createServerValidator } from '../../src/fhir/server-validator.js';
import { mayUseStored, StoredConformance } from '../../src/pipeline/stored-conformance.js';

/**
 * Issue 15: a write checks the conformance stamp only when something stored could change its
 * verdict: a meta.profile, an extension or a Coding anywhere in it, or a conformance resource itself.
 */
describe('which writes check the conformance stamp', () => {
  it('a resource naming no profile and no extension does not; one that does, at any depth, does', () => {
    expect(mayUseStored({ resourceType: 'Patient', name: [{ family: 'Ng' }], birthDate: '1990-01-01' })).toBe(false);
    expect(mayUseStored({ resourceType: 'Patient', meta: { profile: ['http://example.org/P'] } })).toBe(true);
    expect(mayUseStored({ resourceType: 'Patient', meta: { lastUpdated: '2026-01-01T00:00:00Z' } })).toBe(false);
    expect(mayUseStored({ resourceType: 'Patient', _birthDate: { extension: [{ url: 'http://example.org/x', valueString: 'a' }] } })).toBe(true);
    expect(mayUseStored({ resourceType: 'Patient', contact: [{ modifierExtension: [] }] })).toBe(true);
    expect(mayUseStored({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient' } }, { resource: { resourceType: 'Flag', meta: { profile: ['http://example.org/F'] } } }] })).toBe(true);
    expect(mayUseStored({ resourceType: 'ValueSet', status: 'draft' })).toBe(true);
    // a Coding: a stored complete CodeSystem for its system must define its code
    expect(mayUseStored({ resourceType: 'Flag', status: 'active', code: { coding: [{ system: 'http://example.org/cs', code: 'a' }] } })).toBe(true);
    expect(mayUseStored({ resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }] })).toBe(false);
  });

  it('prepare reads the stamp only for such a resource (and always without one: $validate)', async () => {
    const queries: string[] = [];
    // the stamp row, and no stored resources
    const db = { query: async <T>(sql: string): Promise<T[]> => (queries.push(sql), (sql.includes('conformance_stamp') ? [{ stamp: '1' }] : []) as T[]) };
    const conformance = new StoredConformance(createServerValidator);
    await conformance.prepare(db, { resourceType: 'Patient', gender: 'male' });
    expect(queries).toEqual([]);
    await conformance.prepare(db, { resourceType: 'Patient', meta: { profile: ['http://example.org/P'] } });
    await conformance.prepare(db);
    expect(queries.filter((q) => q.includes('conformance_stamp'))).toHaveLength(2);
  });
});

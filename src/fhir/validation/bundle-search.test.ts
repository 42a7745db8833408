import { describe, expect, it } from 'vitest';
import { searchedTypes } from './bundle-search.js';
import { summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** Bundle links and searchsets (bundle.html#searchset), with the HL7 validator's messages. */

const validator = createR4Validator();
const lines = (bundle: unknown) => summary(validator.validate(bundle));
const patient = (id?: string) => ({ resourceType: 'Patient', ...(id ? { id } : {}) });
const searchset = (self: string | undefined, entry: unknown[]) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  ...(self ? { link: [{ relation: 'self', url: self }] } : {}),
  entry,
});

describe('link relations', () => {
  it('each occurs once, in the Bundle and in each entry', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      link: [{ relation: 'self', url: 'https://x/a' }, { relation: 'next', url: 'https://x/b' }, { relation: 'self', url: 'https://x/c' }],
      entry: [{ fullUrl: 'https://x/Patient/1', resource: patient('1'), link: [{ relation: 'alternate', url: 'https://y/1' }, { relation: 'alternate', url: 'https://y/2' }] }],
    };
    expect(lines(bundle)).toEqual([
      "error Bundle.link[2]: The link relationship type 'self' can only occur once",
      "error Bundle.entry[0].link[1]: The link relationship type 'alternate' can only occur once",
    ]);
  });
});

describe('a searchset', () => {
  it('passes with a self link, modes, ids and matches of the type searched for', () => {
    const bundle = searchset('https://x/fhir/Patient?name=ng', [
      { fullUrl: 'https://x/fhir/Patient/1', resource: patient('1'), search: { mode: 'match' } },
      { fullUrl: 'https://x/fhir/Organization/2', resource: { resourceType: 'Organization', id: '2', name: 'A' }, search: { mode: 'include' } },
      { resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] }, search: { mode: 'outcome' } },
    ]);
    expect(lines(bundle)).toEqual([]);
  });

  it('needs ids on matches and includes, the searched type on matches, and an OperationOutcome as its outcome', () => {
    const bundle = searchset('https://x/fhir?_type=Observation,DocumentReference', [
      { fullUrl: 'https://x/fhir/Patient/1', resource: patient('1'), search: { mode: 'outcome' } },
      { fullUrl: 'urn:uuid:4e0c1b8e-8f4a-4f7b-9a39-2f4d8a7e6b10', resource: patient(), search: { mode: 'match' } },
    ]);
    expect(lines(bundle)).toEqual([
      'error Bundle.entry[0].resource: This is not an OperationOutcome (Patient)',
      'error Bundle.entry[1].resource: Search results must have ids',
      'error Bundle.entry[1].resource: This is not a matching resource type for the specified search (Patient expecting [Observation, DocumentReference])',
    ]);
  });

  it('without a self link or search modes is warned about', () => {
    expect(lines(searchset(undefined, [{ fullUrl: 'https://x/fhir/Patient/1', resource: patient('1') }]))).toEqual([
      'warning Bundle: SearchSet Bundles should have a self link that specifies what the search was',
      'warning Bundle: SearchSet bundles should have search modes on the entries',
    ]);
  });
});

describe('searchedTypes', () => {
  it.each([
    ['https://x/fhir/Patient?name=a', ['Patient']],
    ['https://x/fhir/Patient/_search', ['Patient']],
    ['base?name=test&_type=Observation,DocumentReference', ['Observation', 'DocumentReference']],
    ['https://x/fhir?name=a', []],
  ])('%s', (url, types) => {
    expect(searchedTypes(url)).toEqual(types);
  });
});

import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { ConformanceRegistry } from './registry.js';
import { Terminology } from './terminology.js';

const CS = 'http://example.org/cs/levels';
const levels: CodeSystem = {
  resourceType: 'CodeSystem',
  url: CS,
  status: 'active',
  content: 'complete',
  caseSensitive: true,
  concept: [
    {
      code: 'support',
      concept: [
        { code: 'routine' },
        { code: 'intensive', concept: [{ code: 'crisis' }] },
      ],
    },
    { code: 'redirected' },
    { code: 'step-down', property: [{ code: 'parent', valueCode: 'support' }] },
  ],
};

function terminology(...valueSets: ValueSet[]): Terminology {
  const registry = new ConformanceRegistry().addCodeSystem(levels);
  for (const vs of valueSets) registry.addValueSet(vs);
  registry.addCodeSystem({ resourceType: 'CodeSystem', url: 'http://example.org/cs/fragment', status: 'active', content: 'fragment', concept: [{ code: 'a' }] });
  return new Terminology(registry);
}

const vs = (id: string, compose: ValueSet['compose']): ValueSet => ({ resourceType: 'ValueSet', url: `http://example.org/vs/${id}`, status: 'active', compose });

describe('ValueSet expansion (valueset.html#compositions)', () => {
  it('includes a whole code system, nested concepts too', () => {
    const t = terminology(vs('all', { include: [{ system: CS }] }));
    const e = t.expand('http://example.org/vs/all');
    expect(e?.has(CS, 'crisis')).toBe(true);
    expect(e?.has(CS, 'unknown')).toBe(false);
    expect(e?.has('http://other', 'crisis')).toBe(false);
    expect(e?.hasCode('routine')).toBe(true);
  });

  it('is case-sensitive unless the code system says otherwise', () => {
    const t = terminology(vs('all', { include: [{ system: CS }] }));
    expect(t.expand('http://example.org/vs/all')?.hasCode('Routine')).toBe(false);
  });

  it('applies is-a, descendent-of and is-not-a over nesting and parent properties', () => {
    const t = terminology(
      vs('isa', { include: [{ system: CS, filter: [{ property: 'concept', op: 'is-a', value: 'support' }] }] }),
      vs('desc', { include: [{ system: CS, filter: [{ property: 'concept', op: 'descendent-of', value: 'support' }] }] }),
      vs('not', { include: [{ system: CS, filter: [{ property: 'concept', op: 'is-not-a', value: 'intensive' }] }] }),
    );
    const isa = t.expand('http://example.org/vs/isa');
    expect(['support', 'routine', 'intensive', 'crisis', 'step-down'].map((c) => isa?.hasCode(c))).toEqual([true, true, true, true, true]);
    expect(isa?.hasCode('redirected')).toBe(false);
    expect(t.expand('http://example.org/vs/desc')?.hasCode('support')).toBe(false);
    expect(t.expand('http://example.org/vs/desc')?.hasCode('crisis')).toBe(true);
    const not = t.expand('http://example.org/vs/not');
    expect([not?.hasCode('crisis'), not?.hasCode('intensive'), not?.hasCode('routine')]).toEqual([false, false, true]);
  });

  it('applies concept lists, exclusions and imports', () => {
    const t = terminology(
      vs('listed', { include: [{ system: CS, concept: [{ code: 'routine' }, { code: 'crisis' }] }] }),
      vs('excluded', { include: [{ system: CS }], exclude: [{ system: CS, concept: [{ code: 'redirected' }] }] }),
      vs('imported', { include: [{ valueSet: ['http://example.org/vs/listed'] }] }),
    );
    expect(t.expand('http://example.org/vs/listed')?.listCodes(10)).toEqual(['routine', 'crisis']);
    expect(t.expand('http://example.org/vs/excluded')?.hasCode('redirected')).toBe(false);
    expect(t.expand('http://example.org/vs/excluded')?.hasCode('crisis')).toBe(true);
    expect(t.expand('http://example.org/vs/imported')?.has(CS, 'crisis')).toBe(true);
    expect(t.expand('http://example.org/vs/imported')?.has(CS, 'routine')).toBe(true);
    expect(t.expand('http://example.org/vs/imported')?.has(CS, 'support')).toBe(false);
  });

  it('answers "unknown" for systems it cannot enumerate', () => {
    const t = terminology(
      vs('snomed', { include: [{ system: 'http://snomed.info/sct' }] }),
      vs('fragment', { include: [{ system: 'http://example.org/cs/fragment' }] }),
      vs('missing-import', { include: [{ valueSet: ['http://example.org/vs/nowhere'] }] }),
      vs('odd-filter', { include: [{ system: CS, filter: [{ property: 'status', op: 'generalizes', value: 'x' }] }] }),
    );
    expect(t.expand('http://example.org/vs/snomed')?.has('http://snomed.info/sct', '123')).toBeUndefined();
    expect(t.expand('http://example.org/vs/snomed')?.has('http://loinc.org', '123')).toBe(false);
    expect(t.expand('http://example.org/vs/fragment')?.hasCode('zzz')).toBeUndefined();
    expect(t.expand('http://example.org/vs/missing-import')?.has(CS, 'routine')).toBeUndefined();
    expect(t.expand('http://example.org/vs/odd-filter')?.hasCode('routine')).toBeUndefined();
    expect(t.expand('http://example.org/vs/not-loaded')).toBeUndefined();
  });

  it('knows what cannot be a code of an external system whose standard fixes the form of its codes', () => {
    // ISO 3166-2: a country's alpha-2 code, a hyphen and up to three letters or digits; UN M49: three digits.
    const subdivisions = 'urn:iso:std:iso:3166:-2';
    const m49 = 'http://unstats.un.org/unsd/methods/m49/m49.htm';
    const t = terminology(vs('places', { include: [{ system: subdivisions }, { system: m49, filter: [{ property: 'class', op: '=', value: 'region' }] }] }));
    const places = t.expand('http://example.org/vs/places');
    expect(places?.has(subdivisions, 'GB-ENG')).toBeUndefined();
    expect(places?.has(subdivisions, 'England')).toBe(false);
    expect(places?.has(m49, '150')).toBeUndefined();
    expect(places?.has(m49, 'Europe')).toBe(false);
    expect(places?.hasCode('GB-ENG')).toBeUndefined();
    expect(places?.hasCode('Europe')).toBe(false);
    // an open value set may hold the string through what it could not read
    const open = terminology(vs('open', { include: [{ system: subdivisions }, { valueSet: ['http://example.org/vs/nowhere'] }] }));
    expect(open.expand('http://example.org/vs/open')?.hasCode('Europe')).toBeUndefined();
  });

  it('ignores the version suffix of a canonical', () => {
    const t = terminology(vs('all', { include: [{ system: CS }] }));
    expect(t.expand('http://example.org/vs/all|4.0.1')?.hasCode('routine')).toBe(true);
  });

  it('caches expansions', () => {
    const t = terminology(vs('all', { include: [{ system: CS }] }));
    expect(t.expand('http://example.org/vs/all')).toBe(t.expand('http://example.org/vs/all'));
  });
});

describe('code system lookup', () => {
  it('knows codes of complete code systems only', () => {
    const t = terminology();
    expect(t.codeSystemHas(CS, 'crisis')).toBe(true);
    expect(t.codeSystemHas(CS, 'nope')).toBe(false);
    expect(t.codeSystemHas('http://example.org/cs/fragment', 'nope')).toBeUndefined();
    expect(t.codeSystemHas('http://snomed.info/sct', '1')).toBeUndefined();
  });

  it('knows external terminologies by name', () => {
    const t = terminology();
    expect(t.isKnownSystem('http://snomed.info/sct')).toBe(true);
    expect(t.isKnownSystem(CS)).toBe(true);
    expect(t.isKnownSystem('http://example.org/unknown')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { createR4Validator } from './validator.js';

// conceptmap-definitions.html#ConceptMap.source_x_: the codes mapped are codes of the source value set.

describe('ConceptMap source codes', () => {
  const validator = createR4Validator();
  const SYSTEM = 'https://stepwise.example/fhir/CodeSystem/priority';
  validator.registry.addCodeSystem({ resourceType: 'CodeSystem', url: SYSTEM, status: 'active', content: 'complete', concept: [{ code: 'p1' }, { code: 'p2' }, { code: 'p3' }] });
  validator.registry.addValueSet({ resourceType: 'ValueSet', url: 'https://stepwise.example/fhir/ValueSet/urgent', status: 'active', compose: { include: [{ system: SYSTEM, concept: [{ code: 'p1' }, { code: 'p2' }] }] } });
  const map = (code: string, source = 'https://stepwise.example/fhir/ValueSet/urgent') => ({
    resourceType: 'ConceptMap',
    status: 'active',
    sourceCanonical: source,
    group: [{ source: SYSTEM, target: 'http://hl7.org/fhir/request-priority', element: [{ code, target: [{ code: 'urgent', equivalence: 'equivalent' }] }] }],
  });
  const errors = (resource: unknown) => validator.validate(resource).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

  it('a source code the source value set holds is fine; one it excludes is an error', () => {
    expect(errors(map('p1'))).toEqual([]);
    expect(errors(map('p3'))).toEqual(["ConceptMap.group[0].element[0].code: The source code 'p3' is not valid in the value set https://stepwise.example/fhir/ValueSet/urgent"]);
  });

  it('a source value set that is not held excludes nothing', () => {
    expect(errors(map('p3', 'https://nowhere.example/ValueSet/x'))).toEqual([]);
  });
});

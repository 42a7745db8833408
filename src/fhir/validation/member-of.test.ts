import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createR4Validator } from './validator.js';

// A profile constraint `memberOf('…')` (FHIR's FHIRPath function: the code is in the value set).

describe("constraint memberOf('valueset')", () => {
  const validator = createR4Validator();
  const SYSTEM = 'https://stepwise.example/fhir/CodeSystem/risk';
  validator.registry.addCodeSystem({ resourceType: 'CodeSystem', url: SYSTEM, status: 'active', content: 'complete', concept: [{ code: 'low' }, { code: 'high' }] });
  validator.registry.addValueSet({ resourceType: 'ValueSet', url: 'https://stepwise.example/fhir/ValueSet/high', status: 'active', compose: { include: [{ system: SYSTEM, concept: [{ code: 'high' }] }] } });
  const profile = (name: string, valueSet: string): string => {
    const sd: StructureDefinition = {
      resourceType: 'StructureDefinition',
      url: `https://stepwise.example/fhir/StructureDefinition/${name}`,
      name,
      status: 'active',
      kind: 'resource',
      abstract: false,
      type: 'Flag',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Flag',
      derivation: 'constraint',
      differential: { element: [{ id: 'Flag', path: 'Flag' }, { id: 'Flag.code', path: 'Flag.code', constraint: [{ key: 'risk-1', severity: 'error', human: 'must be a high risk', expression: `memberOf('${valueSet}')` }] }] },
    };
    validator.registry.addStructureDefinition(sd);
    return sd.url as string;
  };
  const HIGH = profile('HighRiskFlag', 'https://stepwise.example/fhir/ValueSet/high');
  const UNKNOWN = profile('UnknownSetFlag', 'https://nowhere.example/ValueSet/x');
  const flag = (code: string) => ({ resourceType: 'Flag', status: 'active', code: { coding: [{ system: SYSTEM, code }] }, subject: { reference: 'Patient/1' } });
  const issues = (resource: unknown, url: string) => validator.validate(resource, { profiles: [url] }).map((i) => `${i.severity} ${i.expression?.[0]}: ${i.diagnostics}`);

  it('passes a code in the value set and fails one outside it', () => {
    expect(issues(flag('high'), HIGH)).toEqual([]);
    expect(issues(flag('low'), HIGH)).toEqual(['error Flag.code: Constraint risk-1 failed: must be a high risk']);
  });

  it('a value set that cannot be expanded leaves the constraint unjudged, with a warning', () => {
    expect(issues(flag('low'), UNKNOWN)).toEqual([expect.stringMatching(/^warning Flag.code: Constraint risk-1 \(must be a high risk\) was not checked/)]);
  });
});

import { describe, expect, it } from 'vitest';
import { createR4Validator } from './validator.js';

// codesystem.html#supplements: a supplement defines no codes, so no Coding names it as its system.

describe('CodeSystem supplements', () => {
  const validator = createR4Validator();
  validator.registry.addCodeSystem({ resourceType: 'CodeSystem', url: 'https://stepwise.example/fhir/CodeSystem/risk', status: 'active', content: 'complete', concept: [{ code: 'high' }] });
  validator.registry.addCodeSystem({
    resourceType: 'CodeSystem',
    url: 'https://stepwise.example/fhir/CodeSystem/risk-cy',
    status: 'active',
    content: 'supplement',
    supplements: 'https://stepwise.example/fhir/CodeSystem/risk',
    concept: [{ code: 'high', designation: [{ language: 'cy', value: 'uchel' }] }],
  });
  const flag = (system: string) => ({ resourceType: 'Flag', status: 'active', code: { coding: [{ system, code: 'high' }] }, subject: { reference: 'Patient/1' } });
  const errors = (resource: unknown) => validator.validate(resource).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

  it('a CodeSystem that names what it supplements is a supplement, whatever its content says', () => {
    validator.registry.addCodeSystem({ resourceType: 'CodeSystem', url: 'https://stepwise.example/fhir/CodeSystem/loinc-cy', status: 'active', content: 'complete', supplements: 'http://loinc.org' });
    expect(errors(flag('https://stepwise.example/fhir/CodeSystem/loinc-cy'))[0]).toMatch(/is a supplement, so can't be used as a value in Coding.system/);
  });

  it('a code of the supplemented system is fine; the supplement itself is not a system', () => {
    expect(errors(flag('https://stepwise.example/fhir/CodeSystem/risk'))).toEqual([]);
    expect(errors(flag('https://stepwise.example/fhir/CodeSystem/risk-cy'))).toEqual([
      "Flag.code.coding[0].system: CodeSystem https://stepwise.example/fhir/CodeSystem/risk-cy is a supplement, so can't be used as a value in Coding.system (it supplements https://stepwise.example/fhir/CodeSystem/risk)",
    ]);
  });
});

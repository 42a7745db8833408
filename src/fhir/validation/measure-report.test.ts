import type { Measure } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createR4Validator } from './validator.js';

// A MeasureReport against its Measure (measurereport.html), with the HL7 validator's MeasureValidator
// as the reference: groups, populations and stratifiers by code, subjects only in subject-list
// reports, no score for a cohort measure.

const POP = 'http://terminology.hl7.org/CodeSystem/measure-population';
const population = (code: string) => ({ code: { coding: [{ system: POP, code }] } });
const defined = (code: string) => ({ ...population(code), criteria: { language: 'text/cql' as const, expression: code } });
const validator = createR4Validator();
function measure(name: string, extra: Partial<Measure>): string {
  const url = `https://stepwise.example/fhir/Measure/${name}`;
  validator.registry.addMeasure({ resourceType: 'Measure', url, status: 'active', ...extra });
  return url;
}
const SINGLE = measure('single', {
  group: [{ population: [defined('initial-population')], stratifier: [{ id: 'age', code: { text: 'by-age' } }] }],
});
const TWO = measure('two', {
  scoring: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/measure-scoring', code: 'cohort' }] },
  group: [
    { code: { text: 'waits' }, population: [defined('initial-population')] },
    { code: { text: 'contacts' }, population: [defined('initial-population')] },
  ],
});

const report = (url: string, group: unknown[], type = 'summary') => ({ resourceType: 'MeasureReport', status: 'complete', type, measure: url, period: { start: '2024-01-01', end: '2024-03-31' }, group });
const errors = (resource: unknown) =>
  validator
    .validate(resource)
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
const counted = (code: string, count = 5) => ({ ...population(code), count });

describe('MeasureReport against its Measure', () => {
  it('accepts a report that follows the measure', () => {
    expect(errors(report(SINGLE, [{ population: [counted('initial-population')], stratifier: [{ code: [{ text: 'by-age' }] }] }]))).toEqual([]);
    expect(errors(report(TWO, [{ code: { text: 'waits' }, population: [counted('initial-population')] }, { code: { text: 'contacts' }, population: [counted('initial-population')] }]))).toEqual([]);
  });

  it('populations and stratifiers match the measure by code, and each of the measure is reported', () => {
    expect(errors(report(SINGLE, [{ population: [counted('initial-population'), counted('numerator')], stratifier: [{ code: [{ text: 'by-sex' }] }] }]))).toEqual([
      expect.stringMatching(/^MeasureReport.group\[0\].population\[1\]: The code for this group population .* has no match in the measure definition/),
      'MeasureReport.group[0].stratifier[0]: Group should have a code that matches the group stratifier definition in the measure',
      "MeasureReport.group[0]: The MeasureReport does not include a stratifier for the stratifier with code 'by-age' (id = 'age')",
    ]);
  });

  it('with several groups, each reported group names one of the measure by code', () => {
    expect(errors(report(TWO, [{ population: [counted('initial-population')] }, { code: { text: 'waits' }, population: [counted('initial-population')] }]))).toEqual([
      'MeasureReport.group[0]: Group should have a code that matches the group definition in the measure',
      "MeasureReport: The MeasureReport does not include a group for the group with code 'contacts'",
    ]);
  });

  it('subjects are listed only in subject-list reports; a cohort measure has no score', () => {
    const listed = { ...counted('initial-population', 1), subjectResults: { reference: 'List/1' } };
    expect(errors(report(SINGLE, [{ population: [listed], stratifier: [{ code: [{ text: 'by-age' }] }] }], 'subject-list'))).toEqual([]);
    expect(errors(report(SINGLE, [{ population: [listed], stratifier: [{ code: [{ text: 'by-age' }] }] }]))).toEqual([
      "MeasureReport.group[0].population[0]: Reports where type is not 'subject-list' don't have subjects listed",
    ]);
    const scored = { code: { text: 'waits' }, population: [counted('initial-population')], measureScore: { value: 0.5 } };
    expect(errors(report(TWO, [scored, { code: { text: 'contacts' }, population: [counted('initial-population')] }]))).toEqual([
      "MeasureReport.group[0].measureScore: No measureScore when the scoring of the measure is 'cohort'",
    ]);
  });

  it('an unknown measure is a warning', () => {
    const issues = validator.validate(report('https://nowhere.example/Measure/x', []));
    expect(issues.filter((i) => i.severity !== 'information').map((i) => `${i.severity} ${i.expression?.[0]}`)).toContain('warning MeasureReport.measure');
  });
});

import { describe, expect, it } from 'vitest';
import { judgeIssues } from '../../messaging/content-policy.js';
import { isProfileIssue } from './issues.js';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** An Observation with a vital sign's LOINC (or SNOMED CT) code conforms to that vital signs profile (observation-vitalsigns.html). */

const validator = createR4Validator();
const VS_CATEGORY = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }];

const bodyTemperature = (extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  category: VS_CATEGORY,
  code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }] },
  subject: { reference: 'Patient/1' },
  effectiveDateTime: '2026-03-02T09:00:00Z',
  valueQuantity: { value: 36.8, unit: 'C', system: 'http://unitsofmeasure.org', code: 'Cel' },
  ...extra,
});

function withoutCategory(o: Record<string, unknown>): Record<string, unknown> {
  const { category: _, ...rest } = o;
  return rest;
}

describe('vital signs observations', () => {
  it('are checked against their profile, which the answer says', () => {
    const issues = validator.validate(bodyTemperature());
    expect(errors(issues)).toEqual([]);
    expect(summary(issues)).toEqual([
      'information Observation: Validate Observation against the Body Temperature profile (http://hl7.org/fhir/StructureDefinition/bodytemp) which is required by the FHIR specification because the LOINC code 8310-5 was found',
    ]);
  });

  it("break it as profile issues: no vital-signs category, a unit the profile does not fix", () => {
    const issues = errors(validator.validate(withoutCategory(bodyTemperature({ valueQuantity: { value: 98.2, system: 'http://unitsofmeasure.org', code: 'K' } }))));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.map((i) => i.expression?.[0])).toContain('Observation.category');
    expect(issues.every(isProfileIssue)).toBe(true);
  });

  it('are checked for a SNOMED CT code of the same measurement too: the profile then asks for its LOINC code', () => {
    const snomed = bodyTemperature({ code: { coding: [{ system: 'http://snomed.info/sct', code: '276885007' }] } });
    const issues = validator.validate(snomed);
    expect(summary(issues)).toContain(
      'information Observation: Validate Observation against the Body Temperature profile (http://hl7.org/fhir/StructureDefinition/bodytemp) which is required by the FHIR specification because the SNOMED CT code 276885007 was found',
    );
    expect(errors(issues).length).toBeGreaterThan(0);
    expect(errors(issues).every(isProfileIssue)).toBe(true);
    expect(errors(issues).map((i) => i.expression?.[0])).toContain('Observation.code.coding');
    // with the LOINC code beside it, the profile is met (and named once, for the LOINC code)
    const both = bodyTemperature({ code: { coding: [{ system: 'http://snomed.info/sct', code: '276885007' }, { system: 'http://loinc.org', code: '8310-5' }] } });
    expect(summary(validator.validate(both))).toEqual([expect.stringMatching(/because the LOINC code 8310-5 was found$/)]);
  });

  it('are not checked for a SNOMED CT code that is not a vital sign', () => {
    const finding = withoutCategory(bodyTemperature({ code: { coding: [{ system: 'http://snomed.info/sct', code: '404684003' }] } }));
    expect(validator.validate(finding)).toEqual([]);
  });

  it('leave a message carrying a SNOMED CT-coded vital sign accepted, with warnings (profile issues of a content resource)', () => {
    const message = {
      resourceType: 'Bundle',
      type: 'message',
      entry: [
        { fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000000', resource: { resourceType: 'MessageHeader', eventCoding: { code: 'x' }, source: { endpoint: 'https://a.example' } } },
        { fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: bodyTemperature({ code: { coding: [{ system: 'http://snomed.info/sct', code: '276885007' }] } }) },
      ],
    };
    const verdict = judgeIssues(validator.validate(message));
    expect(verdict.refusals).toEqual([]);
    expect(verdict.warnings.length).toBeGreaterThan(0);
  });

  it("accept a component unit outside the vital signs units, with a warning (an oxygen flow beside a saturation)", () => {
    const saturation = {
      ...bodyTemperature(),
      code: { coding: [{ system: 'http://loinc.org', code: '2708-6' }] },
      valueQuantity: { value: 97, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
      component: [{ code: { coding: [{ system: 'http://loinc.org', code: '3151-8' }] }, valueQuantity: { value: 6, system: 'http://unitsofmeasure.org', code: 'L/min' } }],
    };
    expect(summary(errors(validator.validate(saturation)))).toEqual([]);
  });

  it('may be derived from another vital sign (a targetProfile names the vitalsigns profile, whose type is Observation)', () => {
    expect(errors(validator.validate(bodyTemperature({ derivedFrom: [{ reference: 'Observation/earlier' }] })))).toEqual([]);
  });
});

import type { PlanDefinition, Resource, RiskAssessment } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { STEPWISE_CANONICAL_BASE } from '../../src/fhir/canonical.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import type { ReferralContext } from '../../src/pathway/referral-context.js';
import { readTriageRules } from '../../src/pathway/rules-data.js';
import { compileRuleSet, evaluateRules, publishedRuleSet } from '../../src/pathway/triage-rules.js';
import { activeFlag, completeContext, indicator, risks } from './builders.js';

const HOUR = 3_600_000;
const withReasons = (...codes: string[]) => completeContext({ referral: { reasonCode: [{ text: 'see codes' }, ...codes.map(indicator)] } });
const withRisk = (level: string): ReferralContext => completeContext({ related: [risks(level)] });
const age = (birthDate: string) => completeContext({ patient: { birthDate }, referral: { authoredOn: '2026-03-02T08:30:00Z' } });

describe('front-door threshold rules (published set)', () => {
  // [name, context, rule that decides or senior-oversight, pathway, priority, due within (ms)]
  it.each<[string, ReferralContext, string, string, string, number]>([
    ['imminent-risk code in reasonCode', withReasons('imminent-risk'), 'imminent-risk', 'crisis-response', 'stat', 4 * HOUR],
    ['imminent-risk on an active Flag', completeContext({ extra: [activeFlag('imminent-risk')] }), 'imminent-risk', 'crisis-response', 'stat', 4 * HOUR],
    ['a RiskAssessment rating risk high', withRisk('high'), 'imminent-risk', 'crisis-response', 'stat', 4 * HOUR],
    ['imminent risk with deterioration too: imminent wins, no conflict', withReasons('imminent-risk', 'reduced-sleep'), 'imminent-risk', 'crisis-response', 'stat', 4 * HOUR],
    ...(['reduced-sleep', 'increased-paranoia', 'withdrawal', 'disengagement', 'missed-medication', 'increased-substance-use', 'safeguarding-concern'].map(
      (code): [string, ReferralContext, string, string, string, number] => [`deterioration: ${code}`, withReasons(code), 'urgent-deterioration', 'intensive-input', 'urgent', 24 * HOUR],
    )),
    ['a RiskAssessment rating risk moderate', withRisk('moderate'), 'urgent-deterioration', 'intensive-input', 'urgent', 24 * HOUR],
    ['long-term illness and stable', withReasons('long-term-illness', 'stable'), 'long-term-stable', 'ongoing-care', 'routine', 28 * 24 * HOUR],
    ['long-term illness as an active Condition, stable', completeContext({ referral: { reasonCode: [indicator('stable')] }, extra: [{ resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/pat-1' }, code: indicator('long-term-illness') }] }), 'long-term-stable', 'ongoing-care', 'routine', 28 * 24 * HOUR],
    ['long-term illness, stable, but deteriorating: deterioration decides', withReasons('long-term-illness', 'stable', 'missed-medication'), 'urgent-deterioration', 'intensive-input', 'urgent', 24 * HOUR],
    ['out of scope (code)', withReasons('out-of-scope'), 'out-of-scope', 'redirected', 'routine', 5 * 24 * HOUR],
    ['out of scope: 17 years old, the day before the 18th birthday', age('2008-03-03'), 'out-of-scope', 'redirected', 'routine', 5 * 24 * HOUR],
    // senior oversight is at the priority the referral asked for (routine here), no longer an invented urgent
    ['no rule: 18 on the day of referral and nothing else', age('2008-03-02'), 'senior-oversight', 'senior-oversight', 'routine', 24 * HOUR],
    ['no rule: long-term illness, stability not stated', withReasons('long-term-illness'), 'senior-oversight', 'senior-oversight', 'routine', 24 * HOUR],
    ['no rule: a RiskAssessment rating risk low', withRisk('low'), 'senior-oversight', 'senior-oversight', 'routine', 24 * HOUR],
    ['conflict: out of scope and imminent risk keeps the 4-hour emergency', withReasons('out-of-scope', 'imminent-risk'), 'senior-oversight', 'senior-oversight', 'stat', 4 * HOUR],
    ['conflict: out of scope and stable long-term illness stays routine, reviewed within 24 hours', withReasons('out-of-scope', 'long-term-illness', 'stable'), 'senior-oversight', 'senior-oversight', 'routine', 24 * HOUR],
    ['conflict: under 18 with deterioration', completeContext({ patient: { birthDate: '2010-01-01' }, referral: { reasonCode: [indicator('withdrawal')] } }), 'senior-oversight', 'senior-oversight', 'urgent', 24 * HOUR],
  ])('%s', (_name, ctx, ruleId, pathway, priority, dueMs) => {
    const d = evaluateRules(ctx);
    expect({ ruleId: d.ruleId, pathway: d.pathway.code, priority: d.priority, dueMs: d.dueWithinMs }).toEqual({ ruleId, pathway, priority, dueMs });
    expect(d.ruleSetVersion).toBe('2.0.0');
    expect(d.ruleSetUrl).toBe(`${PATHWAY.planDefinition}/front-door-triage`);
  });

  it('ignores a Flag that is no longer active and a Condition that is resolved', () => {
    const inactive = { ...activeFlag('imminent-risk'), status: 'inactive' as const };
    const resolved: Resource = { resourceType: 'Condition', id: 'c2', subject: { reference: 'Patient/pat-1' }, code: indicator('reduced-sleep'), clinicalStatus: { coding: [{ code: 'resolved' }] } };
    expect(evaluateRules(completeContext({ extra: [inactive, resolved] })).kind).toBe('senior-oversight');
  });

  it('ignores a RiskAssessment entered in error', () => {
    const wrong: RiskAssessment = { ...risks('high'), status: 'entered-in-error' };
    expect(evaluateRules(completeContext({ related: [wrong] })).ruleId).toBe('senior-oversight');
  });

  it('ignores indicator codes of other systems', () => {
    const ctx = completeContext({ referral: { reasonCode: [{ coding: [{ system: 'http://snomed.info/sct', code: 'imminent-risk' }] }] } });
    expect(evaluateRules(ctx).ruleId).toBe('senior-oversight');
  });

  it('says in words what was decided, from what, and the standard; the rule and version stay out of the sentence', () => {
    const d = evaluateRules(withReasons('long-term-illness', 'stable'));
    expect(d.kind).toBe('decided');
    expect(d.rationale).toBe(
      'Ongoing care with the community mental health team: the referral gives known long-term mental illness (triage indicator long-term-illness) and currently stable (triage indicator stable) as reasons for referral. Standard: routine response within 4 weeks.',
    );
    expect(d.matched).toEqual([{ ruleId: 'long-term-stable', conditions: expect.arrayContaining(['no red flag']) }]);
    expect(d.evidence.map((e) => e.indicator)).toEqual(['long-term-illness', 'stable']);
  });

  it('explains senior oversight: nothing recognised, or the rules that disagree and why', () => {
    expect(evaluateRules(completeContext()).rationale).toBe(
      'Senior oversight: the referral records nothing the threshold rules recognise (no red flag, sign of deterioration, stable long-term illness or need outside the service), so a senior clinician decides. Priority routine, as the referrer asked. Standard: senior review within 24 hours.',
    );
    expect(evaluateRules(withReasons('out-of-scope', 'imminent-risk')).rationale).toBe(
      'Senior oversight: the threshold rules disagree (same-day crisis response, because the referral gives imminent risk (triage indicator imminent-risk) as a reason for referral; but proposed redirect to another service, because the referral gives needs outside the service (triage indicator out-of-scope) as a reason for referral), so a senior clinician decides. Priority stat, the most urgent of the rules that matched. Standard: emergency response within 4 hours.',
    );
  });

  it('names the age when a rule decides on it', () => {
    expect(evaluateRules(age('2008-03-03')).rationale).toBe(
      "Proposed redirect to another service: the person is under 18 at referral (children and young people's services) or has needs outside the service; aged 17 at referral. Standard: routine response within 5 days.",
    );
  });

  it('assigns owner team and lead role from the rule', () => {
    expect(evaluateRules(withReasons('imminent-risk'))).toMatchObject({ owner: { reference: 'Organization/crisis-team' }, lead: { coding: [{ code: 'crisis-clinician' }] } });
    expect(evaluateRules(withReasons('long-term-illness', 'stable'))).toMatchObject({ owner: { reference: 'Organization/cmht' }, lead: { coding: [{ code: 'care-coordinator' }] } });
    expect(evaluateRules(completeContext())).toMatchObject({ owner: { reference: 'Organization/front-door-team' }, lead: { coding: [{ code: 'senior-clinician' }] } });
  });

  it('evaluates a referral without a patient (no age, no crash)', () => {
    expect(evaluateRules(completeContext({ patient: null, referral: { reasonCode: [indicator('imminent-risk')] } })).ruleId).toBe('imminent-risk');
  });
});

describe('compiling a rule set', () => {
  const pd = readTriageRules();
  const variant = (change: (p: PlanDefinition) => void): PlanDefinition => {
    const copy = structuredClone(pd);
    change(copy);
    return copy;
  };

  it('compiles the published set once per version, with the published ConceptMap', () => {
    expect(publishedRuleSet().vocabulary.conceptMap).toBe(`${STEPWISE_CANONICAL_BASE}/ConceptMap/triage-indicator|1.0.0`);
    expect(publishedRuleSet().rules.map((r) => r.ruleId)).toEqual(['imminent-risk', 'urgent-deterioration', 'long-term-stable', 'out-of-scope']);
    expect(publishedRuleSet().fallback.ruleId).toBe('senior-oversight');
  });

  it.each<[string, (p: PlanDefinition) => void, RegExp]>([
    ['no version', (p) => delete p.version, /url and version/],
    ['a rule without id', (p) => delete p.action![0].id, /has no id/],
    ['two rules with one id', (p) => (p.action![1].id = 'imminent-risk'), /appears twice/],
    ['a broken FHIRPath', (p) => (p.action![0].condition![0].expression!.expression = 'where('), /imminent-risk condition\[0\]/],
    ['a duration in months', (p) => (p.action![0].timingDuration = { value: 1, code: 'mo' }), /timingDuration/],
    ['two fallbacks', (p) => delete p.action![0].condition, /exactly one action without conditions/],
    ['an owner that is no reference', (p) => (p.action![0].dynamicValue = [{ path: 'owner', expression: { language: 'text/fhirpath', expression: "'crisis team'" } }]), /dynamicValue owner/],
  ])('refuses %s', (_name, change, message) => {
    expect(() => compileRuleSet(variant(change))).toThrow(message);
  });

  it('decides by the version given: a new version changes new decisions only', () => {
    const v2 = compileRuleSet(variant((p) => {
      p.version = '3.0.0';
      p.action![0].timingDuration = { value: 2, unit: 'h', system: 'http://unitsofmeasure.org', code: 'h' };
    }));
    const ctx = withReasons('imminent-risk');
    expect(evaluateRules(ctx, v2)).toMatchObject({ ruleSetVersion: '3.0.0', dueWithinMs: 2 * HOUR });
    expect(evaluateRules(ctx)).toMatchObject({ ruleSetVersion: '2.0.0', dueWithinMs: 4 * HOUR });
  });
});

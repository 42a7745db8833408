import { readFileSync } from 'node:fs';
import type { CodeSystem, ConceptMap, Flag } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { defaultValidator } from '../../src/fhir/validation/index.js';
import { parseFhirXml } from '../../src/fhir/xml/index.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { contextFromBundle, type ReferralContext } from '../../src/pathway/referral-context.js';
import { readIndicatorConceptMap, readRulesFile, readTriageRules } from '../../src/pathway/rules-data.js';
import { evaluateRules } from '../../src/pathway/triage-rules.js';
import { fixturePath } from '../support/fixtures.js';
import { sample } from '../messaging/support.js';
import { BARS_SAFEGUARDING, completeContext, condition, indicator, safeguardingFlag, snomed } from './builders.js';

const HOUR = 3_600_000;
/** A GP referral whose reason for referral is coded in SNOMED CT. */
const gpReferral = (code: string, display: string) => completeContext({ referral: { reasonCode: [snomed(code, display)] } });
/** A referral that describes the person in words only (a GP letter, an NHS 111 summary). */
const inWords = (text: string, note?: string) => completeContext({ referral: { reasonCode: [{ text }], ...(note ? { note: [{ text: note }] } : {}) } });
const outcome = (ctx: ReferralContext) => {
  const d = evaluateRules(ctx);
  return { ruleId: d.ruleId, priority: d.priority, dueMs: d.dueWithinMs };
};
const RED_FLAG = { ruleId: 'imminent-risk', priority: 'stat', dueMs: 4 * HOUR };
const DETERIORATION = { ruleId: 'urgent-deterioration', priority: 'urgent', dueMs: 24 * HOUR };

describe('SNOMED CT codes that GP and NHS 111 referrals carry', () => {
  it.each([
    ['6471006', 'Suicidal thoughts (finding)'],
    ['247650009', 'Planning suicide (finding)'],
    ['304594002', 'Suicidal intent (finding)'],
    ['425104003', 'Suicidal behavior (finding)'],
    ['82313006', 'Suicide attempt (event)'],
    ['225444004', 'At increased risk for suicide (finding)'],
    ['401206008', 'At risk for deliberate self harm (finding)'],
    ['248062006', 'Self-injurious behavior (finding)'],
    ['276853009', 'Self inflicted injury (disorder)'],
    ['1149222004', 'Overdose (disorder)'],
    ['55680006', 'Drug overdose (disorder)'],
    ['129707006', 'At risk for other-directed violence (finding)'],
  ])('red flag %s %s: same-day crisis response, the code named in the rationale', (code, display) => {
    const ctx = gpReferral(code, display);
    expect(outcome(ctx)).toEqual(RED_FLAG);
    expect(evaluateRules(ctx).rationale).toContain(`(SNOMED CT ${code}) as a reason for referral. Standard: emergency response within 4 hours.`);
  });

  it.each([
    ['69322001', 'Psychotic disorder (disorder)'],
    ['7011001', 'Hallucinations (finding)'],
    ['2073000', 'Delusions (finding)'],
    ['193462001', 'Insomnia (disorder)'],
    ['129834002', 'Noncompliance with medication regimen (finding)'],
    ['15167005', 'Alcohol abuse (disorder)'],
    ['26416006', 'Drug abuse (disorder)'],
    ['248054003', 'Self-neglect (finding)'],
  ])('deterioration %s %s: urgent intensive input', (code, display) => {
    expect(outcome(gpReferral(code, display))).toEqual(DETERIORATION);
  });

  it('reads as a sentence a nurse understands', () => {
    expect(evaluateRules(gpReferral('6471006', 'Suicidal thoughts (finding)')).rationale).toBe(
      'Same-day crisis response: the referral gives suicidal thoughts (SNOMED CT 6471006) as a reason for referral. Standard: emergency response within 4 hours.',
    );
  });

  it('reads a GP problem list: schizophrenia as a current Condition, stable in the reason, goes to ongoing care', () => {
    const ctx = completeContext({ referral: { reasonCode: [snomed('359746009', "Patient's condition stable (finding)")] }, extra: [condition(snomed('58214004', 'Schizophrenia (disorder)'))] });
    const d = evaluateRules(ctx);
    expect(d).toMatchObject({ ruleId: 'long-term-stable', priority: 'routine' });
    expect(d.rationale).toBe(
      "Ongoing care with the community mental health team: the referral gives patient's condition stable (SNOMED CT 359746009) as a reason for referral and the referral records schizophrenia (SNOMED CT 58214004) as a current condition. Standard: routine response within 4 weeks.",
    );
  });

  it('ignores a self-harm Condition that is resolved, or refuted', () => {
    const selfHarm = snomed('248062006', 'Self-injurious behavior (finding)');
    const resolved = { ...condition(selfHarm, 'c1'), clinicalStatus: { coding: [{ code: 'resolved' }] } };
    const refuted = { ...condition(selfHarm, 'c2'), verificationStatus: { coding: [{ code: 'refuted' }] } };
    expect(evaluateRules(completeContext({ extra: [resolved, refuted] })).ruleId).toBe('senior-oversight');
    expect(evaluateRules(completeContext({ extra: [condition(selfHarm)] })).ruleId).toBe('imminent-risk');
  });

  it('raises nothing for a code the map leaves out or marks unmatched: senior oversight decides', () => {
    expect(evaluateRules(gpReferral('35489007', 'Depressive disorder (disorder)')).ruleId).toBe('senior-oversight');
    expect(evaluateRules(gpReferral('23233009', 'Previous known suicide attempt (situation)')).ruleId).toBe('senior-oversight');
  });
});

describe('BaRS safeguarding flags', () => {
  it('an unspecified safeguarding concern (FLA06, as published) is urgent deterioration', () => {
    const flag = parseFhirXml(readFileSync(fixturePath('nhs', 'bars', 'FLA06-flag-safeguarding-concern.xml'), 'utf8')) as Flag;
    const ctx = completeContext({ extra: [{ ...flag, subject: { reference: 'Patient/pat-1' } }] });
    expect(outcome(ctx)).toEqual(DETERIORATION);
    const d = evaluateRules(ctx);
    expect(d.rationale).toContain('an active flag records unspecified safeguarding concern identified (BaRS safeguarding code U)');
  });

  it('at risk of deliberate self harm is a red flag; "no safeguarding issues identified" raises nothing', () => {
    expect(outcome(completeContext({ extra: [safeguardingFlag('401206008', 'At risk for deliberate self harm (finding)')] }))).toEqual(RED_FLAG);
    expect(evaluateRules(completeContext({ extra: [safeguardingFlag('861931000000100', 'No safeguarding issues identified (finding)')] })).ruleId).toBe('senior-oversight');
  });

  it('the NHS 111 referral REFREQ01 (as published) goes to urgent input for its child safeguarding flag', () => {
    const ctx = contextFromBundle(sample('REFREQ01-referral-111-to-ED.xml'));
    expect(outcome(ctx)).toEqual(DETERIORATION);
    const d = evaluateRules(ctx);
    expect(d.evidence).toEqual([expect.objectContaining({ indicator: 'safeguarding-concern', source: 'flag', coding: expect.objectContaining({ code: '836881000000105' }) })]);
    expect(d.rationale).toContain('child is cause for safeguarding concern (BaRS safeguarding code 836881000000105)');
  });
});

describe("red flags in the referral's own words", () => {
  it.each([
    ['Took an overdose of 30 paracetamol last night, medically cleared in ED', undefined, 'an overdose ("Took an overdose of 30 paracetamol last night, medically…")'], // quoted with a little context, cut at a word
    ['Low mood', 'Mum says he has been self-harming again', 'self-harm ("Mum says he has been self-harming again")'],
    ['Says she wants to end her life', undefined, 'ending their life'],
    ['Talks of killing himself', undefined, 'killing themselves'],
    // a negated mention still counts: deciding it is no risk is a clinician's call
    ['Denies suicidal thoughts at present', undefined, 'suicide ("Denies suicidal thoughts at present")'],
  ])('"%s" / note "%s": same-day, and the rationale says what the text mentions', (text, note, mentions) => {
    const d = evaluateRules(inWords(text, note));
    expect({ ruleId: d.ruleId, priority: d.priority, dueMs: d.dueWithinMs }).toEqual(RED_FLAG);
    expect(d.rationale).toContain(`the referral text mentions ${mentions}`);
  });

  it('decides nothing else from words: low mood and poor sleep in text go to senior oversight', () => {
    expect(evaluateRules(inWords('Low mood, poor sleep, struggling at work; selfie-obsessed; endless life admin')).ruleId).toBe('senior-oversight');
  });

  it('only ever raises urgency: words of suicide over codes of a stable long-term illness make it same-day', () => {
    const ctx = completeContext({ referral: { reasonCode: [indicator('long-term-illness'), indicator('stable'), { text: 'Recent suicidal ideation' }] } });
    expect(outcome(ctx)).toEqual(RED_FLAG);
  });
});

describe('senior oversight takes its priority from the referral, never from nothing', () => {
  it.each<[string, Partial<ReferralContext['referral']>, string, number, string]>([
    ['urgency not given: routine', { priority: undefined }, 'routine', 24 * HOUR, 'Priority routine: the referral does not say how urgent it is and records no red flag.'],
    ['urgent asked for', { priority: 'urgent' }, 'urgent', 24 * HOUR, 'Priority urgent, as the referrer asked.'],
    ['asap asked for: due within the 4-hour emergency standard', { priority: 'asap' }, 'asap', 4 * HOUR, 'Standard: emergency response within 4 hours.'],
    ['stat asked for: due within the 4-hour emergency standard', { priority: 'stat' }, 'stat', 4 * HOUR, 'Standard: emergency response within 4 hours.'],
    ['routine asked, but the rules that disagree are urgent', { priority: 'routine', reasonCode: [indicator('out-of-scope'), indicator('withdrawal')] }, 'urgent', 24 * HOUR, 'Priority urgent, the most urgent of the rules that matched.'],
  ])('%s', (_name, referral, priority, dueMs, says) => {
    const d = evaluateRules(completeContext({ referral }));
    expect({ kind: d.kind, priority: d.priority, dueMs: d.dueWithinMs }).toEqual({ kind: 'senior-oversight', priority, dueMs });
    expect(d.rationale).toContain(says);
  });
});

describe('the published ConceptMap', () => {
  const cm = readIndicatorConceptMap();
  const indicators = new Set((readRulesFile<CodeSystem>('CodeSystem-triage-indicator.json').concept ?? []).map((c) => c.code));

  it('is valid R4, as are the rules and the indicator CodeSystem', () => {
    const validator = defaultValidator();
    for (const r of [cm, readTriageRules(), readRulesFile<CodeSystem>('CodeSystem-triage-indicator.json')]) {
      expect(validator.validate(r).filter((i) => i.severity === 'error'), r.resourceType).toEqual([]);
    }
  });

  it('says why for every mapping that is not exact, and every code it leaves unmatched (R4 invariant cmd-1, and more)', () => {
    const silent = (cm.group ?? []).flatMap((g) => (g.element ?? []).filter((e) => e.target?.some((t) => ['narrower', 'inexact', 'unmatched'].includes(t.equivalence) && !t.comment)).map((e) => `${g.source}|${e.code}`));
    expect(silent).toEqual([]);
  });

  it('maps only to triage-indicator codes that exist', () => {
    const targets = (cm.group ?? []).flatMap((g) => g.element ?? []).flatMap((e) => e.target ?? []).filter((t) => t.equivalence !== 'unmatched');
    expect(targets.length).toBeGreaterThan(50);
    for (const t of targets) expect(indicators, t.code).toContain(t.code);
  });

  it('reviews every BaRS safeguarding code, mapped or marked unmatched', () => {
    const bars = JSON.parse(readFileSync(new URL('../../src/messaging/conformance/safeguarding-codes-bars.json', import.meta.url), 'utf8')) as CodeSystem;
    const group = (cm as ConceptMap).group?.find((g) => g.source === BARS_SAFEGUARDING);
    expect(group?.element?.map((e) => e.code).sort()).toEqual((bars.concept ?? []).map((c) => c.code).sort());
  });

  it('the rules name only indicators that exist, in their inputs and their conditions', () => {
    for (const action of readTriageRules().action ?? []) {
      for (const c of (action.input ?? []).flatMap((i) => i.codeFilter ?? []).flatMap((f) => f.code ?? [])) {
        expect(c.system).toBe(PATHWAY.indicator);
        expect(indicators).toContain(c.code);
      }
      for (const cond of action.condition ?? []) for (const [, code] of cond.expression!.expression!.matchAll(/code = '([a-z-]+)'/g)) expect(indicators, `${action.id}: ${code}`).toContain(code);
    }
  });
});

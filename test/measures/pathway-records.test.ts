import type { Measure, Task, TaskOutput } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { loadStepwiseConformance } from '../../src/fhir/stepwise-profiles.js';
import { evaluateMeasure } from '../../src/measures/evaluate.js';
import { PATHWAY, TaskCode } from '../../src/pathway/codes.js';
import { admitReferral } from '../../src/pathway/front-door.js';
import { upsertAll } from '../../src/store/seed.js';
import { completeContext, consent, indicator, medication, risks } from '../pathway/builders.js';
import { ACCEPT, CRISIS_LEAD, escalationsOf, FOUR_PARTS, handover, highRiskFlag, personWithPlan, write } from '../pathway/care-support.js';
import { pathwayStore, type PathwayTestStore } from '../pathway/support.js';
import { counts, minutes } from './support.js';

/**
 * The measures over what Stepwise itself records: referrals admitted by the front door, a triage
 * completed, a same-day escalation opened by a high-risk flag and decided, a handover accepted
 * and its first contact made, each through the pathway's own code and write policies, so the
 * facts the measures read are the ones the pathway leaves behind.
 */
const HOUR = 3_600_000;
const MARCH = { periodStart: '2026-03-01', periodEnd: '2026-03-31' };
let t: PathwayTestStore;
beforeEach(async () => {
  t = await pathwayStore();
  await upsertAll(t.store, loadStepwiseConformance().filter((r): r is Measure => r.resourceType === 'Measure'));
});
afterEach(() => t.t.dispose());

const evaluate = (id: string) => evaluateMeasure(t.store, id, MARCH);
const outcome = (level: string): TaskOutput => ({ type: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] }, valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: level }] } });

describe('the front door', () => {
  it('time to triage, minimum dataset and redirect rate from two admitted referrals, one triaged two hours later', async () => {
    const routine = { reasonCode: [indicator('long-term-illness'), indicator('stable')] };
    // sr-2 arrives without the person's consent: held, with a call to the referrer; sr-1 arrives complete
    await t.put(completeContext({ referral: { ...routine, id: 'sr-2' }, related: [risks(), medication()] }));
    const { task: held } = await admitReferral(t.store, { serviceRequestId: 'sr-2' }, { clock: t.clock });
    await t.put(completeContext({ referral: routine, related: [consent(), risks(), medication()] }));
    const { task: complete } = await admitReferral(t.store, { serviceRequestId: 'sr-1' }, { clock: t.clock });
    expect([complete.status, held.status]).toEqual(['requested', 'on-hold']);
    t.clock.advance(2 * HOUR);
    await write(t.store, { ...complete, status: 'completed', output: [...(complete.output ?? []), outcome('routine-support')] } as Task);
    t.clock.advance(24 * HOUR);

    const triage = await evaluate('time-to-triage');
    // both received; the held one is due in four weeks, so not yet judged: 1 / (2 - 1), in 120 min
    expect(counts(triage)).toEqual({ ip: 2, den: 2, excl: 1, num: 1, score: 1 });
    expect(minutes(triage, 'median-minutes')).toBe(120);
    // one arrived complete: 1 / 2
    expect(counts(await evaluate('mds-compliance'))).toEqual({ ip: 2, den: 2, excl: 0, num: 1, score: 0.5 });
    // one decision, not a redirect
    expect(counts(await evaluate('redirect-rate'))).toEqual({ ip: 1, den: 1, excl: 0, num: 0, score: 0 });
  });
});

describe('step-up and step-down', () => {
  beforeEach(async () => {
    await personWithPlan(t.store, CRISIS_LEAD, 'step-down');
  });

  it('a same-day escalation from a high-risk flag, decided three hours later: reviewed within standard', async () => {
    await write(t.store, highRiskFlag('flag-1'));
    const [esc] = await escalationsOf(t.store);
    t.clock.advance(3 * HOUR);
    await write(t.store, { ...esc, status: 'completed', input: FOUR_PARTS, output: ACCEPT });
    t.clock.advance(24 * HOUR);
    const review = await evaluate('time-to-clinical-review');
    expect(counts(review)).toEqual({ ip: 1, den: 1, excl: 0, num: 1, score: 1 });
    expect(minutes(review, 'median-minutes')).toBe(180);
    // a same-day escalation is a crisis presentation
    expect(esc.priority).toBe('asap');
  });

  it('a handover accepted, its first contact made ten hours later, its checklist complete three days on', async () => {
    const asked = await write(t.store, handover('h-1'));
    t.clock.advance(2 * HOUR);
    await write(t.store, { ...asked, status: 'accepted' });
    const [contact] = (await t.store.matches(parseSearch('Task', [['code', `${PATHWAY.taskCode}|${TaskCode.firstContact}`]]))) as Task[];
    t.clock.advance(10 * HOUR);
    await write(t.store, { ...contact, status: 'in-progress' });
    await write(t.store, { ...((await t.store.read('Task', contact.id!)) as Task), status: 'completed' });
    t.clock.advance(3 * 24 * HOUR);
    await write(t.store, { ...((await t.store.read('Task', 'h-1')) as Task), status: 'completed' });

    const first = await evaluate('first-contact-72h');
    expect(counts(first)).toEqual({ ip: 1, den: 1, excl: 0, num: 1, score: 1 });
    expect(minutes(first, 'median-minutes')).toBe(600);
    expect(counts(await evaluate('handover-checklist-complete'))).toEqual({ ip: 1, den: 1, excl: 0, num: 1, score: 1 });
    // the 30 days after the step-down are not over and nothing happened: not yet judged
    expect(counts(await evaluate('re-presentation-30d'))).toEqual({ ip: 1, den: 1, excl: 1, num: 0 });
  });
});

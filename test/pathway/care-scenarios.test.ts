import type { CarePlan, Provenance, Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { cadencesOf } from '../../src/pathway/care/care-plan.js';

import { PATHWAY, TaskCode } from '../../src/pathway/codes.js';
import { findTriageTask } from '../../src/pathway/front-door.js';
import { completeContext, indicator } from './builders.js';
import { ACCEPT, CHECKLIST, CMHT_NORTH, escalation, escalationsOf, expectIssues, FOUR_PARTS, handover, highRiskFlag, leadsOf, personWithPlan, refusal, TRANSITION_PLAN, write } from './care-support.js';
import { MONDAY_9AM, pathwayStore, type PathwayTestStore } from './support.js';

let t: PathwayTestStore;
beforeEach(async () => {
  t = await pathwayStore();
});
afterEach(async () => t.t.dispose());

const HOUR = 3_600_000;
const planOf = async (): Promise<CarePlan> => (await t.store.search(parseSearch('CarePlan', [['subject', 'Patient/pat-1'], ['status', 'active']]))).matches[0] as CarePlan;
const level = (plan: CarePlan) => plan.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === PATHWAY.levelOfSupport)?.code;
const teamIdOf = (plan: CarePlan) => plan.careTeam![0].reference!.split('/')[1];

/** A referral through the front door, triaged to what the rules decide: the person's plan opens. */
async function triaged(code: string): Promise<Task> {
  const ctx = completeContext({ referral: { reasonCode: [indicator(code)] } });
  await t.store.update(ctx.patient!);
  await t.store.update(ctx.requester!);
  for (const r of ctx.related) await t.store.update(r);
  await write(t.store, ctx.referral);
  const triage = (await findTriageTask(t.store, 'sr-1'))!;
  return write(t.store, { ...triage, status: 'completed' });
}

describe('seed 002, example 3: step-down after crisis with a handover', () => {
  it('crisis referral → crisis plan led by the crisis team → handover to the CMHT, which is accountable only once it accepts', async () => {
    await triaged('imminent-risk');
    const [escalation1] = await escalationsOf(t.store);
    expect(escalation1.restriction?.period?.end).toBe(new Date(MONDAY_9AM.getTime() + 4 * HOUR).toISOString());
    let plan = await planOf();
    expect(level(plan)).toBe('crisis-response');
    expect(await leadsOf(t.store, teamIdOf(plan))).toEqual(['Organization/crisis-team']);

    // after home treatment the crisis team steps the person down and hands over
    t.clock.advance(7 * 24 * HOUR);
    plan = (await write(t.store, { ...plan, category: [{ coding: [{ system: PATHWAY.levelOfSupport, code: 'step-down' }] }] })) as CarePlan;
    const focus = { focus: { reference: `CarePlan/${plan.id}` }, requester: { reference: 'Organization/crisis-team' } };
    expectIssues(await refusal(write(t.store, handover('h-1', focus, TRANSITION_PLAN.slice(0, 2)))), 422, [
      "Task.input.where(type.coding.code = 'contact-frequency')",
      "Task.input.where(type.coding.code = 'red-flag-thresholds')",
    ]);
    const asked = await write(t.store, handover('h-1', focus, TRANSITION_PLAN));
    expect(await leadsOf(t.store, teamIdOf(plan))).toEqual(['Organization/crisis-team']);

    t.clock.advance(3 * HOUR);
    const accepted = await write(t.store, { ...asked, status: 'accepted' });
    expect(await leadsOf(t.store, teamIdOf(plan))).toEqual([CMHT_NORTH.reference]);
    const [contact] = (await t.store.matches(parseSearch('Task', [['part-of', 'Task/h-1'], ['code', `${PATHWAY.taskCode}|${TaskCode.firstContact}`]]))) as Task[];
    expect(new Date(contact.restriction!.period!.end!).getTime() - t.clock.now().getTime()).toBe(72 * HOUR);
    expect(cadencesOf(await planOf()).map((c) => c.key)).toEqual(['taper-h-1-1', 'taper-h-1-2']);

    // the checklist gates completion
    expectIssues(await refusal(write(t.store, { ...accepted, status: 'completed' })), 422, [
      "Task.input.where(type.coding.code = 'appointments-booked')",
      "Task.input.where(type.coding.code = 'support-hours-adjusted')",
      "Task.input.where(type.coding.code = 'risk-plan-updated')",
      "Task.input.where(type.coding.code = 'carer-contact-agreed')",
    ]);
    await write(t.store, { ...accepted, status: 'completed', input: [...TRANSITION_PLAN, ...CHECKLIST] });
    expect(await leadsOf(t.store, teamIdOf(plan))).toEqual([CMHT_NORTH.reference]);
  });
});

describe('seed 000, example 3: self-neglect with housing risk', () => {
  it('a high-risk self-neglect/housing flag raised by housing staff escalates the same day to the named worker, once', async () => {
    await personWithPlan(t.store, CMHT_NORTH, 'ongoing-care');
    t.clock.set(new Date('2026-03-02T21:30:00Z'));
    const flag = highRiskFlag('housing-1', 'self-neglect-housing', {
      code: { text: 'Hoarding; tenancy enforcement notice served; no heating' },
      author: { reference: 'Organization/housing-association' },
    });
    await write(t.store, flag);
    await write(t.store, { ...flag, code: { text: 'Hoarding; tenancy enforcement notice served; no heating; not eating' } });
    const found = (await escalationsOf(t.store)).filter((e) => e.focus?.reference === 'Flag/housing-1');
    expect(found).toHaveLength(1);
    expect(found[0].owner).toEqual(CMHT_NORTH);
    // same day: 21:30 London → due at the end of the day, not four hours later
    expect(found[0].restriction?.period?.end).toBe('2026-03-02T23:59:59.000Z');
    expect(found[0].description).toContain('self-neglect-housing');
  });
});

describe('seed 002, example 2: deterioration with a shared-language escalation', () => {
  it('a vague escalation is refused; a shared-language one is accepted and steps routine support up to intensive input', async () => {
    await personWithPlan(t.store, CMHT_NORTH, 'routine-support');

    // housing staff: "he's not right" — rejected for vague information
    const vague = escalation('esc-1', [FOUR_PARTS[0]], { requester: { reference: 'Organization/housing-association' } });
    expect((await refusal(write(t.store, vague))).issues).toHaveLength(3);

    const raised = await write(t.store, escalation('esc-1', FOUR_PARTS, { requester: { reference: 'Organization/housing-association' } }));
    t.clock.advance(2 * HOUR);
    await write(t.store, { ...raised, status: 'completed', output: ACCEPT });
    const plan = (await t.store.read('CarePlan', 'plan-1')) as CarePlan;
    expect(level(plan)).toBe('intensive-input');
    expect(await leadsOf(t.store)).toEqual([CMHT_NORTH.reference]);
    const [prov] = (await t.store.matches(parseSearch('Provenance', [['target', 'CarePlan/plan-1']]))) as Provenance[];
    expect(prov.recorded).toBe(t.clock.now().toISOString());
    expect(prov.agent[0].who).toEqual(raised.owner);
  });
});

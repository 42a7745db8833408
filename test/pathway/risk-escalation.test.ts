import type { Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CARE } from '../../src/pathway/care/codes.js';
import { endOfLondonDay, sameDayDue } from '../../src/pathway/risk/same-day.js';
import { completeContext, indicator } from './builders.js';
import { CMHT_NORTH, escalationsOf, expectIssues, highRiskFlag, personWithPlan, refusal, write } from './care-support.js';
import { MONDAY_9AM, pathwayStore, type PathwayTestStore } from './support.js';

let t: PathwayTestStore;
beforeEach(async () => {
  t = await pathwayStore();
  await t.store.update({ resourceType: 'Patient', id: 'pat-1', name: [{ family: 'Smith' }] });
});
afterEach(async () => t.t.dispose());

const due = (task: Task) => task.restriction?.period?.end;

describe('same day', () => {
  it('is within 4 hours, and never past the end of the London day', () => {
    expect(sameDayDue(new Date('2026-03-02T09:00:00Z')).toISOString()).toBe('2026-03-02T13:00:00.000Z');
    expect(sameDayDue(new Date('2026-03-02T22:30:00Z')).toISOString()).toBe('2026-03-02T23:59:59.000Z');
    // summer time: the London day ends at 22:59:59 UTC
    expect(endOfLondonDay(new Date('2026-07-01T21:00:00Z')).toISOString()).toBe('2026-07-01T22:59:59.000Z');
    expect(sameDayDue(new Date('2026-07-01T21:00:00Z')).toISOString()).toBe('2026-07-01T22:59:59.000Z');
  });
});

describe('a high-risk flag opens exactly one same-day escalation', () => {
  it('to the flag author when a clinician, due the same day, pre-filled and not refused', async () => {
    await write(t.store, highRiskFlag('flag-1', 'relapse-signature', { author: { reference: 'PractitionerRole/cmht-north-care-coordinator' } }));
    const [esc] = await escalationsOf(t.store);
    expect(esc.owner).toEqual({ reference: 'PractitionerRole/cmht-north-care-coordinator' });
    expect(esc.focus).toEqual({ reference: 'Flag/flag-1' });
    expect(esc.status).toBe('requested');
    expect(due(esc)).toBe(new Date(MONDAY_9AM.getTime() + 4 * 3_600_000).toISOString());
    expect(esc.identifier).toEqual([{ system: CARE.escalationKey, value: 'Flag/flag-1' }]);
    expect(esc.input?.map((i) => i.type.coding?.[0].code)).toEqual(['what-has-changed', 'current-risks']);
  });

  it('a re-save, a second write or a status change of the flag opens no second one', async () => {
    const flag = await write(t.store, highRiskFlag('flag-1'));
    await write(t.store, { ...flag, code: { text: 'Worse: not sleeping at all' } });
    await write(t.store, { ...flag, status: 'inactive' });
    await write(t.store, { ...flag, status: 'active' });
    expect(await escalationsOf(t.store)).toHaveLength(1);
  });

  it('goes to the accountable lead of the care plan when the author is not a clinician, else to the front-door team', async () => {
    await write(t.store, highRiskFlag('flag-1', 'safeguarding', { author: { reference: 'Organization/housing-association' } }));
    expect((await escalationsOf(t.store))[0].owner?.reference).toBe('Organization/front-door-team');
    await personWithPlan(t.store, CMHT_NORTH, 'ongoing-care');
    await write(t.store, highRiskFlag('flag-2', 'self-neglect-housing'));
    const second = (await escalationsOf(t.store)).find((e) => e.focus?.reference === 'Flag/flag-2')!;
    expect(second.owner).toEqual(CMHT_NORTH);
  });

  it('a flag that is not high risk opens none', async () => {
    await write(t.store, { ...highRiskFlag('flag-1'), extension: [{ url: CARE.flagPriority, valueCodeableConcept: { coding: [{ system: CARE.flagPriorityCode, code: 'PM' }] } }] });
    await write(t.store, { ...highRiskFlag('flag-2'), status: 'inactive' });
    expect(await escalationsOf(t.store)).toHaveLength(0);
  });

  it('refuses an unknown risk domain or severity, naming where', async () => {
    const flag = highRiskFlag('flag-1', 'gambling', { extension: [{ url: CARE.flagPriority, valueCodeableConcept: { coding: [{ system: CARE.flagPriorityCode, code: 'HIGH' }] } }] });
    expectIssues(await refusal(write(t.store, flag)), 422, ['Flag.category', `Flag.extension('${CARE.flagPriority}')`]);
    expect(await escalationsOf(t.store)).toHaveLength(0);
  });
});

describe('a red flag at the front door opens exactly one same-day escalation', () => {
  it('for a referral with imminent risk, to the team the rule assigned, once', async () => {
    const ctx = completeContext({ referral: { reasonCode: [indicator('imminent-risk')] } });
    await t.store.update(ctx.patient!);
    await t.store.update(ctx.requester!);
    for (const r of ctx.related) await t.store.update(r);
    const sr = await write(t.store, ctx.referral);
    await write(t.store, { ...sr, note: [{ text: 'called the GP back' }] });
    const [esc, ...more] = await escalationsOf(t.store);
    expect(more).toHaveLength(0);
    expect(esc.focus).toEqual({ reference: 'ServiceRequest/sr-1' });
    expect(esc.owner?.reference).toBe('Organization/crisis-team');
    expect(due(esc)).toBe('2026-03-02T13:00:00.000Z');
  });

  it('a routine referral opens none', async () => {
    const ctx = completeContext({ referral: { reasonCode: [indicator('reduced-sleep')] } });
    await t.store.update(ctx.patient!);
    await t.store.update(ctx.requester!);
    for (const r of ctx.related) await t.store.update(r);
    await write(t.store, ctx.referral);
    expect(await escalationsOf(t.store)).toHaveLength(0);
  });
});

import type { CarePlan, CareTeam, Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cadencesOf, reviewDateOf } from '../../src/pathway/care/care-plan.js';
import { CARE, CareActivity } from '../../src/pathway/care/codes.js';
import { leadParticipant } from '../../src/pathway/care/care-team.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { findTriageTask } from '../../src/pathway/front-door.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { completeContext, indicator } from './builders.js';
import { carePlan, careTeam, CMHT_NORTH, CRISIS_LEAD, expectIssues, leadsOf, personWithPlan, refusal, write } from './care-support.js';
import { pathwayStore, type PathwayTestStore } from './support.js';

let t: PathwayTestStore;
beforeEach(async () => {
  t = await pathwayStore();
});
afterEach(async () => t.t.dispose());

const weekly = { frequency: 1, period: 1, periodUnit: 'wk' as const };

describe('an active care plan has exactly one accountable lead', () => {
  it('a plan whose team has no lead is refused, naming CareTeam.participant', async () => {
    await write(t.store, careTeam('team-1', []));
    expectIssues(await refusal(write(t.store, carePlan('plan-1', 'team-1'))), 422, ['CareTeam.participant']);
  });

  it('a team with two leads is refused', async () => {
    expectIssues(await refusal(write(t.store, careTeam('team-1', [CRISIS_LEAD, CMHT_NORTH]))), 422, ['CareTeam.participant']);
  });

  it('a plan whose care team is not stored is refused', async () => {
    expectIssues(await refusal(write(t.store, carePlan('plan-1', 'nowhere'))), 422, ['CarePlan.careTeam']);
  });

  it('the team of an active plan cannot lose its lead, nor gain a second', async () => {
    const { team } = await personWithPlan(t.store);
    expectIssues(await refusal(write(t.store, { ...team, participant: [] })), 422, ['CareTeam.participant']);
    expectIssues(await refusal(write(t.store, { ...team, participant: [...team.participant!, leadParticipant(CMHT_NORTH, '2026-03-02T09:00:00Z')] })), 422, ['CareTeam.participant']);
    expect(await leadsOf(t.store)).toEqual([CRISIS_LEAD.reference]);
  });

  it('a plan that is no longer active is not held to it', async () => {
    await write(t.store, careTeam('team-1', []));
    await expect(write(t.store, carePlan('plan-1', 'team-1', 'routine-support', { status: 'completed' }))).resolves.toBeDefined();
  });
});

describe('the shape of an active plan', () => {
  it('names each missing or wrong part', async () => {
    await write(t.store, careTeam('team-1', [CRISIS_LEAD]));
    const plan: CarePlan = {
      ...carePlan('plan-1', 'team-1'),
      category: [{ text: 'Mental health' }],
      careTeam: [],
      extension: [{ url: CARE.reviewDate, valueString: 'next month' }],
      activity: [{ detail: { status: 'scheduled', scheduledTiming: { repeat: { frequency: 0 } } } }],
    };
    expectIssues(await refusal(write(t.store, plan)), 422, [
      'CarePlan.category',
      'CarePlan.careTeam',
      'CarePlan.activity[0].detail.code',
      'CarePlan.activity[0].detail.scheduledTiming.repeat.period',
      'CarePlan.activity[0].detail.scheduledTiming.repeat.periodUnit',
      'CarePlan.activity[0].detail.scheduledTiming.repeat.frequency',
      `CarePlan.extension('${CARE.reviewDate}')`,
    ]);
  });

  it('redirected is not a level a plan can hold', async () => {
    await write(t.store, careTeam('team-1', [CRISIS_LEAD]));
    expectIssues(await refusal(write(t.store, carePlan('plan-1', 'team-1', 'redirected'))), 422, ['CarePlan.category']);
  });

  it('keeps cadences with stable ids and the review date, for the scheduler', async () => {
    await write(t.store, careTeam('team-1', [CRISIS_LEAD]));
    const code = (c: string) => ({ coding: [{ system: CARE.careActivity, code: c }] });
    const stored = await write(
      t.store,
      carePlan('plan-1', 'team-1', 'ongoing-care', {
        extension: [{ url: CARE.reviewDate, valueDate: '2026-06-01' }],
        activity: [
          { detail: { status: 'scheduled', code: code(CareActivity.weeklyWellbeingContact), scheduledTiming: { repeat: weekly } } },
          { detail: { status: 'completed', code: code(CareActivity.monthlyStructuredReview), scheduledTiming: { repeat: { frequency: 1, period: 1, periodUnit: 'mo' } } } },
          { id: 'cadence-1', detail: { status: 'in-progress', code: code(CareActivity.monthlyStructuredReview), scheduledTiming: { repeat: { frequency: 1, period: 1, periodUnit: 'mo' } } } },
          { detail: { status: 'scheduled', description: 'one-off blood test' } },
        ],
      }),
    );
    expect(stored.activity!.map((a) => a.id)).toEqual(['cadence-2', 'cadence-3', 'cadence-1', undefined]);
    expect(cadencesOf(stored)).toEqual([
      { key: 'cadence-2', code: code(CareActivity.weeklyWellbeingContact), frequency: 1, period: 1, periodUnit: 'wk', status: 'scheduled' },
      { key: 'cadence-1', code: code(CareActivity.monthlyStructuredReview), frequency: 1, period: 1, periodUnit: 'mo', status: 'in-progress' },
    ]);
    expect(reviewDateOf(stored)).toBe('2026-06-01');
    expect(cadencesOf({ ...stored, status: 'completed' })).toEqual([]);
  });
});

describe('a referral triaged to a level of support opens the care plan', () => {
  async function triagedReferral(code: string): Promise<Task> {
    const ctx = completeContext({ referral: { reasonCode: [indicator(code)] } });
    await t.store.update(ctx.patient!);
    await t.store.update(ctx.requester!);
    for (const r of ctx.related) await t.store.update(r);
    await write(t.store, ctx.referral);
    return (await findTriageTask(t.store, 'sr-1'))!;
  }

  it('with the lead the rule assigned, in the same transaction as the completion', async () => {
    const triage = await triagedReferral('reduced-sleep');
    expect(triage.owner?.reference).toBe('Organization/crisis-team');
    await write(t.store, { ...triage, status: 'completed' });
    const [plan] = (await t.store.matches(parseSearch('CarePlan', [['subject', 'Patient/pat-1']]))) as CarePlan[];
    expect(plan.status).toBe('active');
    expect(plan.category?.[0].coding?.[0]).toMatchObject({ system: PATHWAY.levelOfSupport, code: 'intensive-input' });
    expect(plan.supportingInfo).toEqual([{ reference: `Task/${triage.id}` }]);
    const team = (await t.store.read('CareTeam', plan.careTeam![0].reference!.split('/')[1])) as CareTeam;
    expect(team.participant).toHaveLength(1);
    expect(team.participant![0].member).toEqual(triage.owner);
    expect(team.participant![0].role?.map((r) => r.coding?.[0].code)).toEqual(['accountable-lead', triage.performerType![0].coding![0].code]);
  });

  it('a re-save of the completed triage opens nothing more', async () => {
    const triage = await triagedReferral('reduced-sleep');
    const done = await write(t.store, { ...triage, status: 'completed' });
    await write(t.store, { ...done, note: [{ text: 'noted' }] });
    expect(await t.store.matches(parseSearch('CarePlan', [['subject', 'Patient/pat-1']]))).toHaveLength(1);
    expect(await t.store.matches(parseSearch('CareTeam', [['subject', 'Patient/pat-1']]))).toHaveLength(1);
  });

  it('moves an existing active plan to the new level and lead, keeping one lead', async () => {
    await personWithPlan(t.store, CMHT_NORTH, 'ongoing-care');
    const triage = await triagedReferral('reduced-sleep');
    await write(t.store, { ...triage, status: 'completed' });
    const plan = (await t.store.read('CarePlan', 'plan-1')) as CarePlan;
    expect(plan.category?.[0].coding?.[0].code).toBe('intensive-input');
    expect(await leadsOf(t.store)).toEqual(['Organization/crisis-team']);
    expect(await t.store.matches(parseSearch('CarePlan', [['subject', 'Patient/pat-1']]))).toHaveLength(1);
  });
});

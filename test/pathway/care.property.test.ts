import type { CarePlan, CareTeam, Flag, Task } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FhirError } from '../../src/errors.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { accountableLeads } from '../../src/pathway/care/care-team.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { findTriageTask } from '../../src/pathway/front-door.js';
import { isHighRiskFlag } from '../../src/pathway/risk/risk-flag.js';
import type { ResourceStore } from '../../src/store/resource-store.js';
import { completeContext, indicator } from './builders.js';
import { ACCEPT, DECLINE, escalation, escalationsOf, handover, highRiskFlag, write } from './care-support.js';
import { pathwayStore } from './support.js';

const TEAMS = ['Organization/cmht-north', 'Organization/cmht-south', 'Organization/crisis-team', 'PractitionerRole/care-coordinator-1'];

type Event =
  | { kind: 'triage'; indicator: 'reduced-sleep' | 'imminent-risk' }
  | { kind: 'handover'; to: number }
  | { kind: 'accept'; which: number }
  | { kind: 'reject'; which: number }
  | { kind: 'flag'; which: number; high: boolean }
  | { kind: 'escalate'; accept: boolean };

const event: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ kind: fc.constant('triage' as const), indicator: fc.constantFrom('reduced-sleep' as const, 'imminent-risk' as const) }),
  fc.record({ kind: fc.constant('handover' as const), to: fc.nat(TEAMS.length - 1) }),
  fc.record({ kind: fc.constant('accept' as const), which: fc.nat(3) }),
  fc.record({ kind: fc.constant('reject' as const), which: fc.nat(3) }),
  fc.record({ kind: fc.constant('flag' as const), which: fc.nat(2), high: fc.boolean() }),
  fc.record({ kind: fc.constant('escalate' as const), accept: fc.boolean() }),
);

/** Plays one event as a person working the pathway would; a refusal (FhirError) is an answer, not a failure. */
async function play(store: ResourceStore, e: Event, n: number, state: { referrals: number; handovers: string[]; escalations: number }): Promise<void> {
  try {
    switch (e.kind) {
      case 'triage': {
        const id = `sr-${++state.referrals}`;
        const ctx = completeContext({ referral: { id, reasonCode: [indicator(e.indicator)] } });
        for (const r of [ctx.patient!, ctx.requester!, ...ctx.related]) await store.update(r);
        await write(store, ctx.referral);
        const triage = (await findTriageTask(store, id))!;
        await write(store, { ...triage, status: 'completed' });
        return;
      }
      case 'handover': {
        const plan = await activePlan(store);
        if (!plan) return;
        const id = `h-${n}`;
        await write(store, handover(id, { focus: { reference: `CarePlan/${plan.id}` }, owner: { reference: TEAMS[e.to] } }));
        state.handovers.push(id);
        return;
      }
      case 'accept':
      case 'reject': {
        const id = state.handovers[e.which % Math.max(1, state.handovers.length)];
        if (!id) return;
        const task = (await store.read('Task', id)) as Task;
        await write(store, e.kind === 'accept' ? { ...task, status: 'accepted' } : { ...task, status: 'rejected', statusReason: { text: 'No capacity' } });
        return;
      }
      case 'flag': {
        const flag = highRiskFlag(`flag-${e.which}`);
        await write(store, e.high ? flag : { ...flag, extension: [] });
        return;
      }
      case 'escalate': {
        const id = `esc-${++state.escalations}`;
        const raised = await write(store, escalation(id));
        await write(store, { ...raised, status: 'completed', output: e.accept ? ACCEPT : DECLINE });
        return;
      }
    }
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
  }
}

async function activePlan(store: ResourceStore): Promise<CarePlan | undefined> {
  return (await store.search(parseSearch('CarePlan', [['status', 'active'], ['_count', '10']]))).matches[0] as CarePlan | undefined;
}

async function checkInvariants(store: ResourceStore): Promise<void> {
  const plans = (await store.search(parseSearch('CarePlan', [['status', 'active'], ['_count', '100']]))).matches as CarePlan[];
  expect(plans.length).toBeLessThanOrEqual(1);
  for (const plan of plans) {
    const team = (await store.read('CareTeam', plan.careTeam![0].reference!.split('/')[1])) as CareTeam;
    expect(accountableLeads(team)).toHaveLength(1);
  }
  const flags = (await store.search(parseSearch('Flag', [['_count', '100']]))).matches as Flag[];
  const escalations = await escalationsOf(store);
  for (const flag of flags.filter(isHighRiskFlag)) expect(escalations.filter((e) => e.focus?.reference === `Flag/${flag.id}`)).toHaveLength(1);
  const referrals = (await store.search(parseSearch('Task', [['code', `${PATHWAY.taskCode}|triage`], ['priority', 'stat'], ['_count', '100']]))).matches as Task[];
  for (const triage of referrals) expect(escalations.filter((e) => e.focus?.reference === triage.focus?.reference)).toHaveLength(1);
  const keys = escalations.map((e) => e.focus?.reference).filter(Boolean);
  expect(new Set(keys).size).toBe(keys.length);
}

describe('care plans, handovers and escalations under any sequence of events', () => {
  it('every active care plan has exactly one accountable lead after every step, and every high-risk flag or red flag exactly one escalation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 8 }), async (events) => {
        const t = await pathwayStore();
        try {
          const state = { referrals: 0, handovers: [] as string[], escalations: 0 };
          for (const [n, e] of events.entries()) {
            await play(t.store, e, n, state);
            await checkInvariants(t.store);
          }
        } finally {
          await t.t.dispose();
        }
      }),
      { numRuns: 15 },
    );
  }, 300_000);
});

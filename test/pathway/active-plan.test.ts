import type { CarePlan } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findActiveCarePlan } from '../../src/pathway/care/care-team.js';
import { carePlan, careTeam, CMHT_NORTH, CRISIS_LEAD, personWithPlan, write } from './care-support.js';
import { pathwayStore, type PathwayTestStore } from './support.js';

let t: PathwayTestStore;
beforeEach(async () => {
  t = await pathwayStore();
  await personWithPlan(t.store, CRISIS_LEAD, 'crisis-response');
});
afterEach(async () => t.t.dispose());

describe("findActiveCarePlan: the most recently changed of a person's active plans", () => {
  it('follows the last change, whichever plan was created first', async () => {
    await write(t.store, careTeam('team-2', [CMHT_NORTH]));
    t.clock.advance(60_000);
    await write(t.store, carePlan('plan-2', 'team-2', 'routine-support'));
    expect((await findActiveCarePlan(t.store, 'pat-1'))?.id).toBe('plan-2');

    t.clock.advance(60_000);
    const first = (await t.store.read('CarePlan', 'plan-1')) as CarePlan;
    await write(t.store, { ...first, description: 'Reviewed after the home visit' });
    expect((await findActiveCarePlan(t.store, 'pat-1'))?.id).toBe('plan-1');

    t.clock.advance(60_000);
    const second = (await t.store.read('CarePlan', 'plan-2')) as CarePlan;
    await write(t.store, { ...second, description: 'Reviewed at the MDT' });
    expect((await findActiveCarePlan(t.store, 'pat-1'))?.id).toBe('plan-2');
  });

  it('a plan no longer active is not found', async () => {
    const plan = (await t.store.read('CarePlan', 'plan-1')) as CarePlan;
    await write(t.store, { ...plan, status: 'completed' });
    expect(await findActiveCarePlan(t.store, 'pat-1')).toBeUndefined();
  });
});

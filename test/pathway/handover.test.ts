import type { CarePlan, Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FhirError, FhirErrorCode } from '../../src/errors.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { cadencesOf } from '../../src/pathway/care/care-plan.js';

import { PATHWAY, TaskCode } from '../../src/pathway/codes.js';
import { PATHWAY_POLICIES, pathwayPolicies, type WritePolicy } from '../../src/pathway/write-policies.js';
import { CHECKLIST, CMHT_NORTH, CRISIS_LEAD, expectIssues, handover, leadsOf, personWithPlan, refusal, TRANSITION_PLAN, write } from './care-support.js';
import { MONDAY_9AM, pathwayStore, type PathwayTestStore } from './support.js';

let t: PathwayTestStore;
beforeEach(async () => {
  t = await pathwayStore();
  await personWithPlan(t.store, CRISIS_LEAD, 'step-down');
});
afterEach(async () => t.t.dispose());

const where = (code: string) => `Task.input.where(type.coding.code = '${code}')`;
const firstContacts = async () => (await t.store.matches(parseSearch('Task', [['code', `${PATHWAY.taskCode}|${TaskCode.firstContact}`]]))) as Task[];
const HOUR = 3_600_000;

describe('a handover carries its parties and its transition plan', () => {
  it('each missing part is named', async () => {
    const bare = handover('h-1', { requester: undefined, owner: undefined, focus: undefined, for: undefined }, []);
    expectIssues(await refusal(write(t.store, bare)), 422, [
      'Task.requester',
      'Task.owner',
      'Task.focus',
      'Task.for',
      where('medication-actions'),
      where('safety-measures'),
      where('contact-frequency'),
      where('red-flag-thresholds'),
    ]);
  });

  it('a draft is not checked yet; asking is', async () => {
    const draft = await write(t.store, handover('h-1', { status: 'draft' }, []));
    expectIssues(await refusal(write(t.store, { ...draft, status: 'requested', input: TRANSITION_PLAN.slice(1) })), 422, [where('medication-actions')]);
  });
});

describe('the sender stays the accountable lead until the receiving team accepts', () => {
  it('asking and rejecting leave the lead where it is', async () => {
    const asked = await write(t.store, handover('h-1'));
    expect(await leadsOf(t.store)).toEqual([CRISIS_LEAD.reference]);
    await write(t.store, { ...asked, status: 'rejected', statusReason: { text: 'No capacity this week' } });
    expect(await leadsOf(t.store)).toEqual([CRISIS_LEAD.reference]);
    expect(await firstContacts()).toHaveLength(0);
  });

  it('acceptance moves the lead, opens the first contact within 72 hours and tapers contact, in one transaction', async () => {
    const asked = await write(t.store, handover('h-1'));
    t.clock.advance(2 * HOUR);
    await write(t.store, { ...asked, status: 'accepted' });
    expect(await leadsOf(t.store)).toEqual([CMHT_NORTH.reference]);
    const [contact, ...more] = await firstContacts();
    expect(more).toHaveLength(0);
    expect(contact.owner).toEqual(CMHT_NORTH);
    expect(contact.partOf).toEqual([{ reference: 'Task/h-1' }]);
    expect(contact.restriction?.period?.end).toBe(new Date(MONDAY_9AM.getTime() + 74 * HOUR).toISOString());
    const plan = (await t.store.read('CarePlan', 'plan-1')) as CarePlan;
    expect(cadencesOf(plan).map((c) => [c.key, c.frequency, c.period, c.periodUnit])).toEqual([
      ['taper-h-1-1', 3, 1, 'wk'],
      ['taper-h-1-2', 1, 1, 'wk'],
    ]);
    // completing the accepted handover, or saving it again, changes none of that
    const accepted = (await t.store.read('Task', 'h-1')) as Task;
    await write(t.store, { ...accepted, status: 'completed' });
    expect(await firstContacts()).toHaveLength(1);
    expect(cadencesOf((await t.store.read('CarePlan', 'plan-1')) as CarePlan)).toHaveLength(2);
  });

  it('a failing acceptance leaves the lead unchanged', async () => {
    const asked = await write(t.store, handover('h-1'));
    const refuseContact: WritePolicy = {
      name: 'test: the first contact cannot be written',
      types: ['Task'],
      before: (next) => {
        if ((next as Task).code?.coding?.some((c) => c.code === TaskCode.firstContact)) throw new FhirError(FhirErrorCode.CONFLICT, 'no');
        return next;
      },
    };
    await refusal(write(t.store, { ...asked, status: 'accepted' }, [...PATHWAY_POLICIES, refuseContact]));
    expect(await leadsOf(t.store)).toEqual([CRISIS_LEAD.reference]);
    expect(((await t.store.read('Task', 'h-1')) as Task).status).toBe('requested');
  });

  it('a handover of a plan that is not active cannot be accepted (409)', async () => {
    const asked = await write(t.store, handover('h-1', { focus: { reference: 'CarePlan/nowhere' } }));
    expectIssues(await refusal(write(t.store, { ...asked, status: 'accepted' })), 409, ['Task.focus']);
  });

  it('the first-contact time is configured', async () => {
    const policies = pathwayPolicies({ firstContactWithinHours: 24 });
    expect(policies).toHaveLength(PATHWAY_POLICIES.length);
    const asked = await write(t.store, handover('h-1'), policies);
    await write(t.store, { ...asked, status: 'accepted' }, policies);
    const [contact] = await firstContacts();
    expect(contact.restriction?.period?.end).toBe(new Date(MONDAY_9AM.getTime() + 24 * HOUR).toISOString());
  });
});

describe('the checklist is complete before the handover completes', () => {
  it('each item not done is named', async () => {
    const open = CHECKLIST.map((i) => (i.type.coding![0].code === 'risk-plan-updated' ? { ...i, valueBoolean: false } : i)).filter((i) => i.type.coding![0].code !== 'appointments-booked');
    const carerBlank = open.map((i) => (i.type.coding![0].code === 'carer-contact-agreed' ? { type: i.type, valueString: ' ' } : i));
    const asked = await write(t.store, handover('h-1', {}, [...TRANSITION_PLAN, ...carerBlank]));
    const accepted = await write(t.store, { ...asked, status: 'accepted' });
    expectIssues(await refusal(write(t.store, { ...accepted, status: 'completed' })), 422, [where('appointments-booked'), where('risk-plan-updated'), where('carer-contact-agreed')]);
    await write(t.store, { ...accepted, status: 'completed', input: [...TRANSITION_PLAN, ...CHECKLIST] });
    expect(((await t.store.read('Task', 'h-1')) as Task).status).toBe('completed');
  });

  it('carer contact agreed, or not appropriate with a reason', async () => {
    const agreed = CHECKLIST.map((i) => (i.type.coding![0].code === 'carer-contact-agreed' ? { type: i.type, valueBoolean: true } : i));
    const done = await write(t.store, handover('h-1', { status: 'completed' }, [...TRANSITION_PLAN, ...agreed]));
    expect(done.status).toBe('completed');
    expect(await leadsOf(t.store)).toEqual([CMHT_NORTH.reference]);
  });
});

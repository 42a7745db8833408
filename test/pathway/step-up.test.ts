import type { CarePlan, Provenance, Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FhirError, FhirErrorCode } from '../../src/errors.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { PATHWAY_POLICIES, type WritePolicy } from '../../src/pathway/write-policies.js';
import { ACCEPT, CMHT_NORTH, DECLINE, escalation, escalationsOf, expectIssues, FOUR_PARTS, highRiskFlag, leadsOf, param, personWithPlan, refusal, write } from './care-support.js';
import { pathwayStore, type PathwayTestStore } from './support.js';

let t: PathwayTestStore;
beforeEach(async () => {
  t = await pathwayStore();
  await personWithPlan(t.store, CMHT_NORTH, 'routine-support');
});
afterEach(async () => t.t.dispose());

const where = (code: string, on = 'input') => `Task.${on}.where(type.coding.code = '${code}')`;
const levelOf = async () => ((await t.store.read('CarePlan', 'plan-1')) as CarePlan).category![0].coding![0].code;
const provenances = async () => (await t.store.matches(parseSearch('Provenance', [['target', 'CarePlan/plan-1']]))) as Provenance[];

describe('an escalation speaks the shared language', () => {
  it('a clinician raising one without the four parts is refused, naming each', async () => {
    expectIssues(await refusal(write(t.store, escalation('esc-1', []))), 422, [
      where('what-has-changed'),
      where('current-risks'),
      where('protective-factors'),
      where('already-tried'),
    ]);
    expectIssues(await refusal(write(t.store, escalation('esc-1', [FOUR_PARTS[0], { ...FOUR_PARTS[2], valueString: '  ' }]))), 422, [
      where('current-risks'),
      where('protective-factors'),
      where('already-tried'),
    ]);
  });

  it('one the server opened from a flag is not refused, but needs all four before its decision', async () => {
    await write(t.store, highRiskFlag('flag-1'));
    const [esc] = await escalationsOf(t.store);
    expectIssues(await refusal(write(t.store, { ...esc, status: 'completed', output: ACCEPT })), 422, [where('protective-factors'), where('already-tried')]);
    const done = await write(t.store, { ...esc, status: 'completed', input: FOUR_PARTS, output: ACCEPT });
    expect(done.status).toBe('completed');
  });
});

describe('the clinician records a decision', () => {
  it('accept needs an action plan, an MDT review date and an out-of-hours contingency', async () => {
    const esc = await write(t.store, escalation('esc-1'));
    expectIssues(await refusal(write(t.store, { ...esc, status: 'completed', output: [ACCEPT[0]] })), 422, [
      where('action-plan', 'output'),
      where('mdt-review-date', 'output'),
      where('out-of-hours-contingency', 'output'),
    ]);
    expect(await levelOf()).toBe('routine-support');
  });

  it('decline needs a rationale; no decision at all is named too', async () => {
    const esc = await write(t.store, escalation('esc-1'));
    expectIssues(await refusal(write(t.store, { ...esc, status: 'completed', output: [DECLINE[0]] })), 422, [where('decline-rationale', 'output')]);
    expectIssues(await refusal(write(t.store, { ...esc, status: 'completed' })), 422, [where('escalation-decision', 'output')]);
    await write(t.store, { ...esc, status: 'completed', output: DECLINE });
    expect(await levelOf()).toBe('routine-support');
    expect(await provenances()).toHaveLength(0);
  });

  it('accepting steps the level of support up, keeps the lead, and leaves a Provenance in the same transaction', async () => {
    const esc = await write(t.store, escalation('esc-1'));
    const done = await write(t.store, { ...esc, status: 'completed', output: ACCEPT });
    expect(await levelOf()).toBe('intensive-input');
    expect(await leadsOf(t.store)).toEqual([CMHT_NORTH.reference]);
    const [prov, ...more] = await provenances();
    expect(more).toHaveLength(0);
    expect(prov.agent[0].who).toEqual(esc.owner);
    expect(prov.activity?.text).toBe('Step-up: routine-support → intensive-input');
    expect(prov.reason?.[0].text).toContain('Contact daily; urgent clinical review');
    expect(prov.entity?.[0].what).toEqual({ reference: 'Task/esc-1' });
    // a re-save of the decided escalation steps nothing up again
    await write(t.store, { ...done, note: [{ text: 'MDT booked' }] } as Task);
    expect(await provenances()).toHaveLength(1);
  });

  it('the decision may name the level it steps up to', async () => {
    const esc = await write(t.store, escalation('esc-1'));
    const level = param('level-of-support', { valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: 'crisis-response' }] } });
    await write(t.store, { ...esc, status: 'completed', output: [...ACCEPT, level] });
    expect(await levelOf()).toBe('crisis-response');
  });

  it('the decision, the level and the Provenance are one transaction: a refused Provenance undoes them all', async () => {
    const esc = await write(t.store, escalation('esc-1'));
    const refuseProvenance: WritePolicy = { name: 'test: refuse', types: ['Provenance'], before: () => { throw new FhirError(FhirErrorCode.CONFLICT, 'no'); } };
    await refusal(write(t.store, { ...esc, status: 'completed', output: ACCEPT }, [...PATHWAY_POLICIES, refuseProvenance]));
    expect(await levelOf()).toBe('routine-support');
    expect(((await t.store.read('Task', 'esc-1')) as Task).status).toBe('requested');
  });
});

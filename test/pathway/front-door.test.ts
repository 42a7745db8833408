import type { Provenance, Resource, Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FhirError } from '../../src/errors.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { defaultValidator } from '../../src/fhir/validation/index.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { admitReferral, findTriageTask, rescreenReferral } from '../../src/pathway/front-door.js';
import { readTriageRules } from '../../src/pathway/rules-data.js';
import { compileRuleSet } from '../../src/pathway/triage-rules.js';
import { consent, completeContext, indicator, medication, NHS_NUMBER, risks } from './builders.js';
import { MONDAY_9AM, pathwayStore, type PathwayTestStore } from './support.js';

const HOUR = 3_600_000;
let p: PathwayTestStore;

beforeEach(async () => {
  p = await pathwayStore();
});
afterEach(async () => {
  await p.t.dispose();
});

const all = async (type: string, params: [string, string][] = []) => (await p.store.search(parseSearch(type, [...params, ['_count', '100']]))).matches;
const admit = (id = 'sr-1', extra: Partial<Parameters<typeof admitReferral>[2]> = {}) => admitReferral(p.store, { serviceRequestId: id }, { clock: p.clock, ...extra });
const stable = { reasonCode: [indicator('long-term-illness'), indicator('stable')] };
const code = (t: Task) => t.code?.coding?.[0]?.code;
const decisionPart = (prov: Provenance, url: string) => prov.extension?.[0].extension?.find((e) => e.url === url);

describe('admitReferral', () => {
  it('gives a complete referral its triage Task, decided by the rules, with the decision on a Provenance', async () => {
    await p.put(completeContext({ referral: stable }));
    const receivedAt = new Date('2026-03-02T08:45:00Z');
    const r = await admit('sr-1', { receivedAt });
    expect(r.created).toBe(true);
    expect(r.gaps).toEqual([]);
    expect(r.task).toMatchObject({
      status: 'requested',
      businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'awaiting-triage' }] },
      intent: 'order',
      priority: 'routine',
      code: { coding: [{ system: PATHWAY.taskCode, code: 'triage' }] },
      focus: { reference: 'ServiceRequest/sr-1' },
      for: { reference: 'Patient/pat-1' },
      authoredOn: '2026-03-02T08:45:00.000Z',
      owner: { reference: 'Organization/cmht' },
      performerType: [{ coding: [{ code: 'care-coordinator' }] }],
      restriction: { period: { end: '2026-03-30T08:45:00.000Z' } },
      output: [{ valueCodeableConcept: { coding: [{ code: 'ongoing-care' }] } }],
    });
    expect(r.clarificationTask).toBeUndefined();
    expect(await all('Task')).toHaveLength(1);
    expect(r.task.description).toBe(r.decision?.rationale);
    const [prov] = (await all('Provenance')) as Provenance[];
    expect(prov.target).toEqual([{ reference: `Task/${r.task.id}/_history/1` }]);
    expect(prov.policy).toEqual([`${PATHWAY.planDefinition}/front-door-triage|2.0.0`]);
    expect(decisionPart(prov, 'rule')?.valueId).toBe('long-term-stable');
    expect(decisionPart(prov, 'ruleSetVersion')?.valueString).toBe('2.0.0');
    expect(prov.reason?.[0].text).toBe(
      'Ongoing care with the community mental health team: the referral gives known long-term mental illness (triage indicator long-term-illness) and currently stable (triage indicator stable) as reasons for referral. Standard: routine response within 4 weeks.',
    );
    expect(prov.recorded).toBe(MONDAY_9AM.toISOString());
  });

  it('takes the time of receipt from the clock when none is given', async () => {
    await p.put(completeContext({ referral: { reasonCode: [indicator('imminent-risk')] } }));
    const r = await admit();
    expect(r.task.authoredOn).toBe(MONDAY_9AM.toISOString());
    expect(r.task.restriction?.period?.end).toBe(new Date(MONDAY_9AM.getTime() + 4 * HOUR).toISOString());
    expect(r.task).toMatchObject({ priority: 'stat', owner: { reference: 'Organization/crisis-team' } });
  });

  it('holds a referral with gaps awaiting information, names each gap and books the call to the referrer for the next working day', async () => {
    await p.put(completeContext({ referral: stable, patient: { identifier: [{ system: NHS_NUMBER, value: '9000000001' }] }, related: [risks(), medication()] }));
    const r = await admit();
    expect(r.gaps.map((g) => g.code)).toEqual(['nhs-number', 'consent']);
    expect(r.task).toMatchObject({
      status: 'on-hold',
      businessStatus: { coding: [{ code: 'awaiting-information' }] },
      owner: { reference: 'Organization/front-door-team' },
      priority: 'routine',
    });
    expect(r.task.input?.map((i) => i.valueCodeableConcept?.coding?.[0].code)).toEqual(['nhs-number', 'consent']);
    expect(r.task.description).toBe('On hold, waiting for the referrer to give: NHS number; consent to the referral. Once it arrives: ongoing care with the community mental health team.');
    expect(r.clarificationTask).toMatchObject({
      status: 'requested',
      code: { coding: [{ code: 'clarify-referral' }] },
      partOf: [{ reference: `Task/${r.task.id}` }],
      owner: { reference: 'Organization/front-door-team' },
      restriction: { period: { end: '2026-03-03T09:00:00.000Z' } },
    });
    expect(r.clarificationTask?.description).toContain('NHS number 9000000001 fails the Modulus 11 check');
  });

  it('skips the Easter bank holidays for the clarification call, and honours a configured number of days', async () => {
    await p.put(completeContext({ referral: stable, related: [risks(), medication()] }));
    const thursday = new Date('2026-04-02T14:00:00+01:00');
    p.clock.set(thursday);
    const r = await admit('sr-1', { clarificationWorkingDays: 2 });
    expect(r.clarificationTask?.restriction?.period?.end).toBe('2026-04-08T13:00:00.000Z');
  });

  it('never holds a red flag: a stat referral with gaps goes to the crisis team at once, the call due no later than triage', async () => {
    await p.put(completeContext({ referral: { reasonCode: [indicator('imminent-risk')] }, related: [] }));
    const r = await admit();
    expect(r.gaps.length).toBeGreaterThan(0);
    expect(r.task).toMatchObject({ status: 'requested', businessStatus: { coding: [{ code: 'awaiting-triage' }] }, owner: { reference: 'Organization/crisis-team' }, priority: 'stat' });
    expect(r.task.input?.length).toBe(r.gaps.length);
    expect(r.clarificationTask?.restriction?.period?.end).toBe(r.task.restriction?.period?.end);
  });

  it('makes a borderline referral\'s triage Task the senior oversight itself: one Task, no copy due at the same moment', async () => {
    await p.put(completeContext({ referral: { reasonCode: [indicator('out-of-scope'), indicator('imminent-risk')] } }));
    const r = await admit();
    expect(r.task).toMatchObject({
      status: 'requested',
      businessStatus: { coding: [{ code: 'senior-oversight' }] },
      priority: 'stat',
      owner: { reference: 'Organization/front-door-team' },
      performerType: [{ coding: [{ code: 'senior-clinician' }] }],
      restriction: { period: { end: new Date(MONDAY_9AM.getTime() + 4 * HOUR).toISOString() } },
    });
    expect(r.task.output).toBeUndefined();
    expect(r.task.description).toMatch(/^Senior oversight: the threshold rules disagree \(same-day crisis response, because .*; but proposed redirect to another service, because .*\), so a senior clinician decides\./);
    expect(await all('Task')).toHaveLength(1);
  });

  it('the referral a new user saw (urgency missing, nothing the rules recognise): one routine Task on hold saying what it waits for, and the call', async () => {
    await p.put(completeContext({ referral: { priority: undefined, reasonCode: [{ text: 'Low mood, struggling at work' }] } }));
    const r = await admit();
    expect(r.gaps.map((g) => g.code)).toEqual(['urgency']);
    expect(r.task).toMatchObject({ status: 'on-hold', priority: 'routine', businessStatus: { coding: [{ code: 'awaiting-information' }] } });
    expect(r.task.description).toBe('On hold, waiting for the referrer to give: urgency asked for. Once it arrives: senior oversight, a senior clinician triages it.');
    expect(r.decision?.rationale).toContain('Priority routine: the referral does not say how urgent it is and records no red flag.');
    const tasks = (await all('Task')) as Task[];
    expect(tasks.map(code).sort()).toEqual(['clarify-referral', 'triage']);
    // the one Task to act on is the call; nothing is urgent that the referral did not say was
    expect(tasks.filter((t) => t.status === 'requested').map(code)).toEqual(['clarify-referral']);
    expect(tasks.every((t) => t.priority === 'routine')).toBe(true);
  });

  it('never holds a red flag written only in words: same-day to the crisis team, the text quoted', async () => {
    await p.put(completeContext({ referral: { priority: undefined, reasonCode: [{ text: 'Took an overdose last night, says she wants to end her life' }] }, related: [] }));
    const r = await admit();
    expect(r.gaps.length).toBeGreaterThan(0);
    expect(r.task).toMatchObject({ status: 'requested', priority: 'stat', owner: { reference: 'Organization/crisis-team' } });
    expect(r.task.description).toContain('the referral text mentions an overdose ("Took an overdose last night, says she wants to end her…") and ending their life ("…overdose last night, says she wants to end her life")');
  });

  it('writes nothing the second time: one triage Task and one decision per referral', async () => {
    await p.put(completeContext({ referral: stable }));
    const first = await admit();
    const again = await admit();
    expect(again.created).toBe(false);
    expect(again.task.id).toBe(first.task.id);
    expect(await all('Task')).toHaveLength(1);
    expect(await all('Provenance')).toHaveLength(1);
  });

  it('joins the caller transaction: when the caller fails, nothing is left', async () => {
    await p.put(completeContext({ referral: stable, related: [] }));
    await expect(
      p.store.transaction(async (tx) => {
        await admitReferral(tx, { serviceRequestId: 'sr-1' }, { clock: p.clock });
        throw new Error('the message failed later');
      }),
    ).rejects.toThrow('the message failed later');
    expect(await all('Task')).toEqual([]);
    expect(await all('Provenance')).toEqual([]);
  });

  it('answers 404 for an unknown referral', async () => {
    await expect(admit('nope')).rejects.toMatchObject({ status: 404 } satisfies Partial<FhirError>);
  });

  it('writes valid R4 resources; the triage Task conforms to StepwiseTriageTask', async () => {
    await p.put(completeContext({ referral: { reasonCode: [indicator('out-of-scope'), indicator('withdrawal')] }, related: [] }));
    await admit();
    const validator = defaultValidator();
    const written: Resource[] = [...(await all('Task')), ...(await all('Provenance'))];
    // held (urgent, not same-day): the triage Task, the call to the referrer and the Provenance
    expect(written).toHaveLength(3);
    for (const r of written) expect(validator.validate(r).filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('reads what the referral carries from the store: Flags, RiskAssessments and supportingInfo', async () => {
    const ctx = completeContext({ referral: { supportingInfo: [{ reference: 'Observation/obs-1' }] } });
    ctx.related.push({ resourceType: 'Flag', id: 'f1', status: 'active', code: indicator('increased-paranoia'), subject: { reference: 'Patient/pat-1' } });
    ctx.related.push({ resourceType: 'Observation', id: 'obs-1', status: 'final', code: { text: 'sleep' } });
    await p.put(ctx);
    const r = await admit();
    expect(r.decision?.ruleId).toBe('urgent-deterioration');
  });
});

describe('rescreenReferral', () => {
  it('resumes the Task when the information arrives, completes the call and records a new decision', async () => {
    await p.put(completeContext({ referral: stable, related: [risks(), medication()] }));
    const receivedAt = MONDAY_9AM;
    const first = await admit();
    expect(first.task.status).toBe('on-hold');
    p.clock.advance(2 * HOUR);
    await p.store.update(consent());
    const r = await rescreenReferral(p.store, 'sr-1', { clock: p.clock });
    expect(r.rescreened).toBe(true);
    expect(r.gaps).toEqual([]);
    expect(r.task).toMatchObject({ status: 'requested', businessStatus: { coding: [{ code: 'awaiting-triage' }] }, owner: { reference: 'Organization/cmht' } });
    expect(r.task.input).toBeUndefined();
    expect(r.task.restriction?.period?.end).toBe(new Date(receivedAt.getTime() + 28 * 24 * HOUR).toISOString());
    const clarify = (await p.store.read('Task', first.clarificationTask!.id!)) as Task;
    expect(clarify.status).toBe('completed');
    const provs = (await all('Provenance')) as Provenance[];
    expect(provs).toHaveLength(2);
    expect(r.provenance?.target).toEqual([{ reference: `Task/${r.task.id}/_history/2` }]);
  });

  it('a borderline referral held for information: the call first, then senior oversight on the same Task once it arrives', async () => {
    await p.put(completeContext({ referral: { reasonCode: [{ text: 'Low mood' }] }, related: [risks(), medication()] }));
    const first = await admit();
    expect(first.task).toMatchObject({ status: 'on-hold', businessStatus: { coding: [{ code: 'awaiting-information' }] } });
    await p.store.update(consent());
    const r = await rescreenReferral(p.store, 'sr-1', { clock: p.clock });
    expect(r.task).toMatchObject({ status: 'requested', businessStatus: { coding: [{ code: 'senior-oversight' }] }, priority: 'routine', owner: { reference: 'Organization/front-door-team' } });
    expect(r.task.description).toMatch(/^Senior oversight: the referral records nothing the threshold rules recognise/);
    const open = ((await all('Task')) as Task[]).filter((t) => t.status !== 'completed');
    expect(open.map(code)).toEqual(['triage']);
  });

  it('keeps holding with the remaining gaps named on the open call', async () => {
    await p.put(completeContext({ referral: stable, related: [risks()] }));
    const first = await admit();
    await p.store.update(consent());
    const r = await rescreenReferral(p.store, 'sr-1', { clock: p.clock });
    expect(r.task.status).toBe('on-hold');
    expect(r.gaps.map((g) => g.code)).toEqual(['current-medication']);
    const clarify = (await p.store.read('Task', first.clarificationTask!.id!)) as Task;
    expect(clarify.status).toBe('requested');
    expect(clarify.input?.map((i) => i.valueCodeableConcept?.coding?.[0].code)).toEqual(['current-medication']);
    expect((await all('Task')).filter((t) => code(t as Task) === 'clarify-referral')).toHaveLength(1);
  });

  it('never rewrites a past decision when the rules change', async () => {
    await p.put(completeContext({ referral: { reasonCode: [indicator('imminent-risk')] } }));
    const first = await admit();
    const v2pd = readTriageRules();
    v2pd.version = '3.0.0';
    v2pd.action![0].timingDuration = { value: 2, unit: 'h', system: 'http://unitsofmeasure.org', code: 'h' };
    const r = await rescreenReferral(p.store, 'sr-1', { clock: p.clock, ruleSet: compileRuleSet(v2pd) });
    expect(r.decision?.ruleSetVersion).toBe('3.0.0');
    const old = (await p.store.read('Provenance', first.provenance!.id!)) as Provenance;
    expect(old).toEqual(first.provenance);
    expect(decisionPart(old, 'ruleSetVersion')?.valueString).toBe('2.0.0');
    const v1 = (await p.store.vread('Task', first.task.id!, '1')) as Task;
    expect(v1.restriction?.period?.end).toBe(first.task.restriction?.period?.end);
  });

  it('leaves a claimed Task alone', async () => {
    await p.put(completeContext({ referral: stable }));
    const first = await admit();
    await p.store.update({ ...first.task, status: 'in-progress' });
    const r = await rescreenReferral(p.store, 'sr-1', { clock: p.clock });
    expect(r.rescreened).toBe(false);
    expect(await all('Provenance')).toHaveLength(1);
  });

  it('admits a referral that had no triage Task yet', async () => {
    await p.put(completeContext({ referral: stable }));
    const r = await rescreenReferral(p.store, 'sr-1', { clock: p.clock });
    expect(r.rescreened).toBe(true);
    expect(await findTriageTask(p.store, 'sr-1')).toMatchObject({ id: r.task.id });
  });
});

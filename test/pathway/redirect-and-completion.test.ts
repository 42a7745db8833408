import type { Resource, Task, TaskOutput } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeWithPolicies } from '../../src/pathway/write-policies.js';
import { FhirError } from '../../src/errors.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { admitReferral } from '../../src/pathway/front-door.js';
import { checkRedirect, missingRedirectParts } from '../../src/pathway/redirect-check.js';
import { stampTriageCompletion } from '../../src/pathway/triage-completion.js';
import { completeContext, consent, indicator, medication, risks } from './builders.js';
import { pathwayStore, type PathwayTestStore } from './support.js';

const out = (code: string, value: Partial<TaskOutput>): TaskOutput => ({ type: { coding: [{ system: PATHWAY.redirectOutput, code }] }, ...value }) as TaskOutput;
const RATIONALE = out('rationale', { valueString: 'Primary need is debt advice; no mental health need identified at triage' });
const SIGNPOST = out('signposted-to', { valueReference: { display: 'Citizens Advice Leeds' } });
const ROUTES = out('escalation-routes-given', { valueBoolean: true });

function redirectTask(outputs: TaskOutput[], status: Task['status'] = 'completed'): Task {
  return {
    resourceType: 'Task',
    id: 't1',
    status,
    intent: 'order',
    code: { coding: [{ system: PATHWAY.taskCode, code: 'triage' }] },
    businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'redirected' }] },
    authoredOn: '2026-03-02T09:00:00Z',
    output: outputs,
  };
}

const missing = (t: Task) => missingRedirectParts(t).map((p) => p.code);

describe('a redirect needs all three parts', () => {
  it.each<[string, TaskOutput[], string[]]>([
    ['all three', [RATIONALE, SIGNPOST, ROUTES], []],
    ['no rationale', [SIGNPOST, ROUTES], ['rationale']],
    ['a blank rationale', [out('rationale', { valueString: '   ' }), SIGNPOST, ROUTES], ['rationale']],
    ['a markdown rationale', [out('rationale', { valueMarkdown: '**debt advice**' }), SIGNPOST, ROUTES], []],
    ['no signposting', [RATIONALE, ROUTES], ['signposted-to']],
    ['signposting by name', [RATIONALE, out('signposted-to', { valueString: 'Talking Therapies' }), ROUTES], []],
    ['signposting as a reference', [RATIONALE, out('signposted-to', { valueReference: { reference: 'Organization/iapt' } }), ROUTES], []],
    ['escalation routes not confirmed', [RATIONALE, SIGNPOST, out('escalation-routes-given', { valueBoolean: false })], ['escalation-routes-given']],
    ['nothing', [], ['rationale', 'signposted-to', 'escalation-routes-given']],
  ])('%s', (_name, outputs, expected) => {
    const task = redirectTask(outputs);
    expect(missing(task)).toEqual(expected);
    if (expected.length === 0) expect(() => checkRedirect(task)).not.toThrow();
    else {
      const err = (() => {
        try {
          checkRedirect(task);
        } catch (e) {
          return e as FhirError;
        }
      })();
      expect(err).toBeInstanceOf(FhirError);
      expect(err!.status).toBe(422);
      expect(err!.issues).toHaveLength(expected.length);
      expected.forEach((code, i) => expect(err!.issues[i].diagnostics).toContain(`redirect-output#${code}`));
    }
  });

  it('applies only when a triage Task completes as a redirect', () => {
    expect(() => checkRedirect(redirectTask([], 'in-progress'))).not.toThrow();
    expect(() => checkRedirect({ ...redirectTask([]), code: { coding: [{ system: PATHWAY.taskCode, code: 'clarify-referral' }] } })).not.toThrow();
    expect(() => checkRedirect({ ...redirectTask([]), businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'triaged' }] } })).not.toThrow();
  });

  it('treats a completed Task whose triage outcome is redirected as a redirect', () => {
    const task: Task = {
      ...redirectTask([]),
      businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'triaged' }] },
      output: [{ type: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] }, valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: 'redirected' }] } }],
    };
    expect(() => checkRedirect(task)).toThrow(/written rationale/);
  });
});

describe('time to triage', () => {
  const now = new Date('2026-03-02T13:30:00Z');
  it('is stamped when a triage Task completes: executionPeriod.end and minutes from receipt', () => {
    const before = { ...redirectTask([], 'in-progress'), businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'awaiting-triage' }] } };
    const done = stampTriageCompletion(before, { ...before, status: 'completed' }, now);
    expect(done.executionPeriod?.end).toBe('2026-03-02T13:30:00.000Z');
    expect(done.extension).toEqual([{ url: PATHWAY.timeToTriage, valueDuration: { value: 270, unit: 'min', system: 'http://unitsofmeasure.org', code: 'min' } }]);
    expect(done.businessStatus?.coding?.[0].code).toBe('triaged');
  });

  it('keeps a completion time the client sent, and a redirect stays redirected', () => {
    const before = redirectTask([RATIONALE, SIGNPOST, ROUTES], 'in-progress');
    const done = stampTriageCompletion(before, { ...before, status: 'completed', executionPeriod: { end: '2026-03-02T10:00:00Z' } }, now);
    expect(done.extension?.[0].valueDuration?.value).toBe(60);
    expect(done.businessStatus?.coding?.[0].code).toBe('redirected');
  });

  it('is not stamped again on a later edit, nor on other Tasks', () => {
    const completed = redirectTask([], 'completed');
    expect(stampTriageCompletion(completed, { ...completed, note: [{ text: 'x' }] }, now)).toEqual({ ...completed, note: [{ text: 'x' }] });
    const other = { ...completed, code: { coding: [{ system: PATHWAY.taskCode, code: 'clarify-referral' }] } };
    expect(stampTriageCompletion(undefined, other, now)).toBe(other);
  });
});

describe('the pathway policies on every write (pathway/write-policies.ts)', () => {
  let p: PathwayTestStore;
  beforeEach(async () => {
    p = await pathwayStore();
  });
  afterEach(async () => {
    await p.t.dispose();
  });
  const update = (r: Resource) => writeWithPolicies(p.store, r, false, (s, x) => s.update(x));

  it('refuses an incomplete redirect and stamps a completed triage', async () => {
    await p.put(completeContext({ referral: { reasonCode: [indicator('out-of-scope')] } }));
    const { task } = await admitReferral(p.store, { serviceRequestId: 'sr-1' }, { clock: p.clock });
    const redirect: Task = { ...task, status: 'completed', businessStatus: { coding: [{ system: PATHWAY.triageStatus, code: 'redirected' }] }, output: [...(task.output ?? []), RATIONALE] };
    await expect(update(redirect)).rejects.toMatchObject({ status: 422 });
    expect(((await p.store.read('Task', task.id!)) as Task).status).toBe(task.status);
    p.clock.advance(90 * 60_000);
    const stored = (await update({ ...redirect, output: [...redirect.output!, SIGNPOST, ROUTES] })).resource as Task;
    expect(stored.extension?.find((e) => e.url === PATHWAY.timeToTriage)?.valueDuration?.value).toBe(90);
    expect(stored.executionPeriod?.end).toBe('2026-03-02T10:30:00.000Z');
  });

  it('re-screens the waiting referrals of a person when the triage team fills a gap', async () => {
    await p.put(completeContext({ referral: { reasonCode: [indicator('long-term-illness'), indicator('stable')] }, related: [risks(), medication()] }));
    const { task } = await admitReferral(p.store, { serviceRequestId: 'sr-1' }, { clock: p.clock });
    expect(task.status).toBe('on-hold');
    await update({ ...medication(), note: [{ text: 'checked' }] });
    expect(((await p.store.read('Task', task.id!)) as Task).status).toBe('on-hold');
    await update(consent());
    const resumed = (await p.store.read('Task', task.id!)) as Task;
    expect(resumed).toMatchObject({ status: 'requested', owner: { reference: 'Organization/cmht' } });
  });

  it('a completed triage Task is final: reopening it is 409 naming what it may still become', async () => {
    await p.put(completeContext({ referral: { reasonCode: [indicator('long-term-illness'), indicator('stable')] } }));
    const { task } = await admitReferral(p.store, { serviceRequestId: 'sr-1' }, { clock: p.clock });
    const done = (await update({ ...task, status: 'completed' })).resource as Task;
    const reopen = update({ ...done, status: 'requested' });
    await expect(reopen).rejects.toMatchObject({ status: 409 });
    await expect(reopen).rejects.toThrow(/from 'completed' it can go to 'entered-in-error'/);
  });

  it('passes other resources unchanged', async () => {
    const patient = { resourceType: 'Patient' as const, id: 'x' };
    expect(((await update(patient)).resource as Resource).id).toBe('x');
  });
});

import type { Bundle, CarePlan, OperationOutcome, RequestGroup } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isError } from '../../src/fhir/resource-validator.js';
import { serverValidator } from '../../src/fhir/server-validator.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { completeContext, indicator, serviceRequest, storeBundle } from './builders.js';

const APPLY = 'PlanDefinition/front-door-triage/$apply';

describe('PlanDefinition/[id]/$apply: a dry run of the front-door rules', () => {
  let t: TestApp;
  let store: ResourceStore;
  const counts = async () => {
    const rows = await t.t.db.query<{ n: string | number }>('SELECT count(*) AS n FROM resource_version');
    return Number(rows[0].n);
  };
  beforeAll(async () => {
    t = await startTestApp();
    store = new ResourceStore(t.t.db, t.clock);
    await seedPathwayData(store);
    const stored = completeContext({ referral: { reasonCode: [indicator('long-term-illness'), indicator('stable')] } });
    await store.transaction(async (tx) => {
      for (const e of storeBundle(stored).entry!) await tx.update(e.resource!);
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const decisionOf = (plan: CarePlan) => plan.contained?.[0] as RequestGroup;

  it('applies the rules to a referral given as a Bundle, storing nothing', async () => {
    const ctx = completeContext({ referral: { id: 'not-stored', reasonCode: [indicator('imminent-risk')] }, related: [] });
    const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [ctx.referral, ctx.patient!, ctx.requester!].map((resource) => ({ fullUrl: `${resource.resourceType}/${resource.id}`, resource })) };
    const before = await counts();
    const res = await t.fhir('POST', APPLY, bundle);
    expect(res.status).toBe(200);
    const plan = (await res.json()) as CarePlan;
    expect(plan).toMatchObject({
      resourceType: 'CarePlan',
      status: 'draft',
      intent: 'proposal',
      instantiatesCanonical: [`${PATHWAY.planDefinition}/front-door-triage|2.0.0`],
      category: [{ coding: [{ code: 'crisis-response' }] }],
      subject: { reference: 'Patient/pat-1' },
      activity: [{ reference: { reference: '#decision' } }],
    });
    expect(decisionOf(plan).action?.[0]).toMatchObject({ id: 'imminent-risk', priority: 'stat', timingDuration: { value: 4, code: 'h' } });
    expect(decisionOf(plan).action?.[1]).toMatchObject({ id: 'clarify-referral', resource: { reference: '#clarify' } });
    expect(plan.contained?.find((r) => r.id === 'triage')).toMatchObject({ resourceType: 'Task', status: 'draft', intent: 'proposal', owner: { reference: 'Organization/crisis-team' } });
    expect(decisionOf(plan).action?.[1].description).toContain('Consent to the referral is missing');
    expect(plan.note?.map((n) => n.text)).toContain('Minimum dataset gap: Current medication is missing');
    expect(await counts()).toBe(before);
    expect(serverValidator().validate(plan).filter(isError)).toEqual([]);
  });

  it('reads a stored referral named by subject (Parameters, or the query on GET)', async () => {
    const before = await counts();
    for (const res of [
      await t.fhir('POST', APPLY, { resourceType: 'Parameters', parameter: [{ name: 'subject', valueString: 'ServiceRequest/sr-1' }] }),
      await t.fhir('POST', APPLY, { resourceType: 'Parameters', parameter: [{ name: 'subject', valueReference: { reference: 'ServiceRequest/sr-1' } }] }),
      await t.fhir('GET', `${APPLY}?subject=ServiceRequest/sr-1`),
    ]) {
      expect(res.status).toBe(200);
      const plan = (await res.json()) as CarePlan;
      expect(plan.category?.[0].coding?.[0].code).toBe('ongoing-care');
      expect(decisionOf(plan).action).toHaveLength(1);
      const ext = decisionOf(plan).extension?.[0].extension ?? [];
      expect(ext.find((e) => e.url === 'rule')?.valueId).toBe('long-term-stable');
      expect(ext.find((e) => e.url === 'owner')?.valueReference).toEqual({ reference: 'Organization/cmht' });
    }
    expect(await counts()).toBe(before);
  });

  it('takes a referral as Parameters resource: a Bundle or a lone ServiceRequest', async () => {
    const ctx = completeContext({ referral: { reasonCode: [indicator('out-of-scope')] } });
    const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [ctx.referral, ctx.patient!].map((resource) => ({ fullUrl: `urn:uuid:${resource.id}`, resource })) };
    bundle.entry![0].resource = { ...ctx.referral, subject: { reference: 'urn:uuid:pat-1' } };
    const viaBundle = (await (await t.fhir('POST', APPLY, { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: bundle }] })).json()) as CarePlan;
    expect(viaBundle.category?.[0].coding?.[0].code).toBe('redirected');
    const lone = (await (await t.fhir('POST', APPLY, { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: serviceRequest({ reasonCode: [indicator('withdrawal')] }) }] })).json()) as CarePlan;
    expect(lone.category?.[0].coding?.[0].code).toBe('intensive-input');
  });

  it.each<[string, string, unknown, number, RegExp]>([
    ['no referral at all', 'POST', { resourceType: 'Parameters', parameter: [] }, 400, /needs parameter 'subject'/],
    ['a subject that is no referral', 'POST', { resourceType: 'Parameters', parameter: [{ name: 'subject', valueString: 'Patient/pat-1' }] }, 400, /ServiceRequest\/\[id\]/],
    ['an unknown referral', 'GET', undefined, 404, /ServiceRequest\/missing is not known/],
    ['a Patient as resource', 'POST', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient' } }] }, 400, /Bundle or a ServiceRequest/],
    ['a Bundle without a referral', 'POST', { resourceType: 'Bundle', type: 'collection', entry: [] }, 422, /no ServiceRequest/],
    ['a body of another type', 'POST', { resourceType: 'Patient' }, 400, /Parameters resource or a Bundle/],
  ])('answers %s with an error naming it', async (_name, method, body, status, message) => {
    const res = await t.fhir(method, method === 'GET' ? `${APPLY}?subject=ServiceRequest/missing` : APPLY, body);
    expect(res.status).toBe(status);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue.map((i) => i.diagnostics).join(' ')).toMatch(message);
  });

  it('answers 404 for an unknown PlanDefinition and 422 for one that is no rule set', async () => {
    expect((await t.fhir('POST', 'PlanDefinition/nope/$apply', { resourceType: 'Parameters', parameter: [{ name: 'subject', valueString: 'ServiceRequest/sr-1' }] })).status).toBe(404);
    await store.update({ resourceType: 'PlanDefinition', id: 'empty', status: 'draft', url: 'urn:x', version: '1' });
    const res = await t.fhir('POST', 'PlanDefinition/empty/$apply', { resourceType: 'Parameters', parameter: [{ name: 'subject', valueString: 'ServiceRequest/sr-1' }] });
    expect(res.status).toBe(422);
  });

  it('applies a newer stored version of the rules', async () => {
    const pd = (await store.read('PlanDefinition', 'front-door-triage')) as import('@medplum/fhirtypes').PlanDefinition;
    await store.update({ ...pd, version: '1.1.0', action: pd.action!.map((a) => (a.id === 'long-term-stable' ? { ...a, timingDuration: { value: 2, unit: 'wk', system: 'http://unitsofmeasure.org', code: 'wk' } } : a)) });
    const plan = (await (await t.fhir('GET', `${APPLY}?subject=ServiceRequest/sr-1`)).json()) as CarePlan;
    expect(plan.instantiatesCanonical).toEqual([`${PATHWAY.planDefinition}/front-door-triage|1.1.0`]);
    expect(decisionOf(plan).action?.[0].timingDuration?.value).toBe(2);
    await seedPathwayData(store);
  });
});

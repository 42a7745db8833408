import type { Bundle, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRONT_DOOR_TEAM_ID, PATHWAY } from '../../src/pathway/codes.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** Every route in gets the same front door: a referral made over REST gets its triage Task as a message's does. */
describe('referrals created over REST are admitted at the front door', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await seedPathwayData(t.store);
  });
  afterAll(() => t.close());

  const triageTasks = async (serviceRequestId: string) => {
    const res = await t.fhir('GET', `Task?focus=ServiceRequest/${serviceRequestId}&code=${PATHWAY.taskCode}|triage`);
    return ((await res.json()) as Bundle<Task>).entry?.map((e) => e.resource!) ?? [];
  };

  it("the README's first referral (a transaction) reaches the front-door queue with its gaps named", async () => {
    const res = await t.fhir('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:9f0c4b1e-3d2a-4c8b-8f4e-1a2b3c4d5e6f',
          resource: { resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }], name: [{ family: 'Smith', given: ['Richard'] }], birthDate: '1980-05-12' },
          request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009' },
        },
        {
          resource: {
            resourceType: 'ServiceRequest',
            status: 'active',
            intent: 'order',
            priority: 'urgent',
            subject: { reference: 'urn:uuid:9f0c4b1e-3d2a-4c8b-8f4e-1a2b3c4d5e6f' },
            requester: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83627' } },
            reasonCode: [{ text: 'Low mood, not sleeping, stopped medication two weeks ago' }],
          },
          request: { method: 'POST', url: 'ServiceRequest' },
        },
      ],
    });
    expect(res.status).toBe(200);
    const location = ((await res.json()) as Bundle).entry![1].response!.location!;
    const id = /ServiceRequest\/([^/]+)/.exec(location)![1];
    const [task, ...more] = await triageTasks(id);
    expect(more).toEqual([]);
    expect(task).toMatchObject({ status: 'on-hold', owner: { reference: `Organization/${FRONT_DOOR_TEAM_ID}` }, for: { reference: expect.stringMatching(/^Patient\//) } });
    expect(task.input!.length).toBeGreaterThan(0);
    const queue = (await (await t.fhir('GET', `Task?owner=Organization/${FRONT_DOOR_TEAM_ID}&status=requested,received,on-hold&_sort=priority-rank,due`)).json()) as Bundle<Task>;
    expect(queue.entry!.map((e) => e.resource!.id)).toContain(task.id);
  });

  it('a draft referral waits; made active it is admitted once, and a later change does not admit it again', async () => {
    const draft: ServiceRequest = { resourceType: 'ServiceRequest', status: 'draft', intent: 'order', subject: { display: 'Someone' }, reasonCode: [{ text: 'Panic attacks' }] };
    const created = (await (await t.fhir('POST', 'ServiceRequest', draft)).json()) as ServiceRequest;
    expect(await triageTasks(created.id!)).toEqual([]);
    const active = (await (await t.fhir('PUT', `ServiceRequest/${created.id}`, { ...created, status: 'active' })).json()) as ServiceRequest;
    expect(await triageTasks(created.id!)).toHaveLength(1);
    await t.fhir('PUT', `ServiceRequest/${created.id}`, { ...active, priority: 'urgent' });
    expect(await triageTasks(created.id!)).toHaveLength(1);
  });

  it('a POSTed referral leaves the evidence of its decision: a Provenance of the triage Task', async () => {
    const sr: ServiceRequest = { resourceType: 'ServiceRequest', status: 'active', intent: 'order', priority: 'routine', subject: { display: 'Someone else' }, reasonCode: [{ text: 'Low mood' }] };
    const created = (await (await t.fhir('POST', 'ServiceRequest', sr)).json()) as ServiceRequest;
    const [task] = await triageTasks(created.id!);
    const provenance = (await (await t.fhir('GET', `Provenance?target=Task/${task.id}`)).json()) as Bundle;
    expect(provenance.total ?? provenance.entry?.length).toBeGreaterThan(0);
  });
});

import type { CarePlan, OperationOutcome, Resource, Task, TaskOutput } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { postgresTestDatabase } from '../support/databases.js';
import { ACCEPT, carePlan, careTeam, CMHT_NORTH, CRISIS_LEAD, escalation, escalationsOf, handover, highRiskFlag, leadsOf } from './care-support.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { CARE } from '../../src/pathway/care/codes.js';
import { PATHWAY, TaskCode } from '../../src/pathway/codes.js';
import { openSameDayEscalation } from '../../src/pathway/risk/escalation.js';
import type { PolicyContext } from '../../src/pathway/write-policies.js';

/** The pathway's writes over plain FHIR REST, on PostgreSQL where concurrent writes really race. */
describe('care plans, escalations and handovers over REST on PostgreSQL', () => {
  let t: TestApp;
  let store: ResourceStore;
  beforeAll(async () => {
    t = await startTestApp(() => postgresTestDatabase(20));
    store = new ResourceStore(t.t.db, t.clock);
    await seedPathwayData(store);
    await store.update({ resourceType: 'Patient', id: 'pat-1', name: [{ family: 'Smith' }] });
  });
  afterAll(async () => t.close());

  const put = (r: Resource) => t.fhir('PUT', `/${r.resourceType}/${r.id}`, r);

  it('sixteen concurrent writes of one high-risk flag (and of a second) make exactly one escalation each', async () => {
    const writes = [...Array.from({ length: 16 }, (_, i) => put({ ...highRiskFlag('flag-race'), code: { text: `save ${i}` } })), ...Array.from({ length: 4 }, () => put(highRiskFlag('flag-race-2', 'medication')))];
    const answers = await Promise.all(writes);
    expect(answers.map((r) => r.status).filter((s) => s !== 200 && s !== 201)).toEqual([]);
    const escalations = await escalationsOf(store);
    expect(escalations.filter((e) => e.focus?.reference === 'Flag/flag-race')).toHaveLength(1);
    expect(escalations.filter((e) => e.focus?.reference === 'Flag/flag-race-2')).toHaveLength(1);
  });

  it('eight transactions opening the escalation of one focus at once (the outreach ladder, a flag) open exactly one', async () => {
    const open = () =>
      store.transaction((tx) =>
        openSameDayEscalation({ store: tx, now: t.clock.now(), create: (r) => tx.create(r), update: (r) => tx.update(r) } as PolicyContext, {
          patient: { reference: 'Patient/pat-1' },
          reason: 'Missed contacts with risk indicators present',
          focus: { reference: 'Task/missed-contact-1' },
        }),
      );
    const opened = await Promise.all(Array.from({ length: 8 }, open));
    expect(new Set(opened.map((e) => e.id)).size).toBe(1);
    expect((await escalationsOf(store)).filter((e) => e.focus?.reference === 'Task/missed-contact-1')).toHaveLength(1);
  });

  it('an escalation without the shared language is 422, each part with its expression', async () => {
    const res = await t.fhir('POST', '/Task', { ...escalation('ignored', []), id: undefined, input: undefined });
    expect(res.status).toBe(422);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue.map((i) => i.expression?.[0])).toEqual(['what-has-changed', 'current-risks', 'protective-factors', 'already-tried'].map((c) => `Task.input.where(type.coding.code = '${c}')`));
  });

  it('$complete records the decision: accept without its parts is 422 naming each, with them the level steps up', async () => {
    await put(careTeam('team-esc', [CMHT_NORTH], { subject: { reference: 'Patient/pat-2' } }));
    await store.update({ resourceType: 'Patient', id: 'pat-2', name: [{ family: 'Jones' }] });
    await put({ ...carePlan('plan-esc', 'team-esc', 'routine-support'), subject: { reference: 'Patient/pat-2' } });
    expect((await put({ ...escalation('esc-rest'), for: { reference: 'Patient/pat-2' } })).status).toBe(201);
    const output = (o: TaskOutput) => ({ name: 'output', part: [{ name: 'type', valueCodeableConcept: o.type }, { name: 'value', ...Object.fromEntries(Object.entries(o).filter(([k]) => k.startsWith('value'))) }] });
    const complete = (outputs: TaskOutput[]) => t.fhir('POST', 'Task/esc-rest/$complete', { resourceType: 'Parameters', parameter: outputs.map(output) });
    const refused = await complete([ACCEPT[0]]);
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as OperationOutcome).issue.map((i) => i.expression?.[0])).toEqual(
      ['action-plan', 'mdt-review-date', 'out-of-hours-contingency'].map((c) => `Task.output.where(type.coding.code = '${c}')`),
    );
    expect((await complete(ACCEPT)).status).toBe(200);
    const plan = (await store.read('CarePlan', 'plan-esc')) as CarePlan;
    expect(plan.category![0].coding![0].code).toBe('intensive-input');
  });

  it('concurrent acceptances of one handover move the lead once, with one first contact', async () => {
    expect((await put(careTeam('team-1', [CRISIS_LEAD]))).status).toBe(201);
    expect((await put(carePlan('plan-1', 'team-1', 'step-down'))).status).toBe(201);
    const asked = handover('h-race');
    expect((await put(asked)).status).toBe(201);
    const answers = await Promise.all(Array.from({ length: 8 }, () => put({ ...asked, status: 'accepted' })));
    expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    expect(await leadsOf(store)).toEqual([CMHT_NORTH.reference]);
    const contacts = (await store.matches(parseSearch('Task', [['part-of', 'Task/h-race'], ['code', `${PATHWAY.taskCode}|${TaskCode.firstContact}`]]))) as Task[];
    expect(contacts).toHaveLength(1);
  });

  it('a care team losing the lead of its active plan is 422 at CareTeam.participant', async () => {
    const demoted = careTeam('team-1', [CRISIS_LEAD]);
    demoted.participant![0].role = [{ coding: [{ system: CARE.careTeamRole, code: 'member' }] }];
    const res = await put(demoted);
    expect(res.status).toBe(422);
    expect(((await res.json()) as OperationOutcome).issue[0].expression).toEqual(['CareTeam.participant']);
  });
});

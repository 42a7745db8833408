import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTIFIER } from '../../src/messaging/bars.js';
import { PATHWAY_TEAMS } from '../../src/pathway/seed-rules.js';
import { clientAssertion, json, startAuthApp, testKey, tokenForm, userToken, type AuthTestApp, type TestKey, teamTask as task, observationOf as observation } from './support.js';

/**
 * Team compartments (issue 13, "Authorisation"; src/security/README.md): team A (the CMHT) and
 * team B (the crisis team) each have one person on their caseload; a referral waits at the front
 * door; a GP practice sent it.
 */
let key: TestKey;
let gpKey: TestKey;
let app: AuthTestApp;


const DATA: Resource[] = [
  ...PATHWAY_TEAMS,
  { resourceType: 'Organization', id: 'gp-practice', identifier: [{ system: IDENTIFIER.ods, value: 'A83627' }], name: 'The Surgery' },
  { resourceType: 'Organization', id: 'other-practice', identifier: [{ system: IDENTIFIER.ods, value: 'B99999' }], name: 'Another Surgery' },
  { resourceType: 'Practitioner', id: 'dr-shared', name: [{ family: 'Shared' }] },
  { resourceType: 'Patient', id: 'pa', name: [{ family: 'Avery' }] },
  { resourceType: 'Patient', id: 'pb', name: [{ family: 'Brook' }] },
  { resourceType: 'Patient', id: 'pr', name: [{ family: 'Referred' }] },
  observation('obs-a', 'pa'),
  observation('obs-b', 'pb'),
  task('task-a', 'pa', 'cmht'),
  // team B's person is on its caseload through their care team, not through a Task
  { resourceType: 'CareTeam', id: 'ct-b', status: 'active', subject: { reference: 'Patient/pb' }, participant: [{ member: { reference: 'Organization/crisis-team' } }] },
  task('task-b-done', 'pb', 'crisis-team', { status: 'completed' }),
  { resourceType: 'ServiceRequest', id: 'sr', status: 'active', intent: 'order', subject: { reference: 'Patient/pr' }, requester: { reference: 'Organization/gp-practice' } },
  { resourceType: 'ServiceRequest', id: 'sr-other', status: 'active', intent: 'order', subject: { reference: 'Patient/pb' }, requester: { reference: 'Organization/other-practice' } },
  task('triage', 'pr', 'front-door-team', { focus: { reference: 'ServiceRequest/sr' } }),
] as Resource[];

const nurseA = () => userToken(key, 'user/*.cruds', { teams: ['cmht'] });
const asA = async (method: string, path: string, body?: unknown) => app.as(await nurseA(), method, path, body);
const ids = (bundle: { entry?: { resource: Resource }[] }) => (bundle.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
const getIds = async (path: string, token?: string) => {
  const res = await app.as(token ?? (await nurseA()), 'GET', path);
  expect(res.status, path).toBe(200);
  return ids(await json(res));
};

beforeAll(async () => {
  [key, gpKey] = await Promise.all([testKey('ES384'), testKey('RS384')]);
  const clients = [{ clientId: 'gp-system', jwks: { keys: [gpKey.publicJwk] }, scopes: 'system/ServiceRequest.rs system/Task.rs system/Patient.rs', organisation: 'A83627' }];
  app = await startAuthApp({ idpKeys: [key], clients, serverKey: await testKey('ES384') });
  for (const r of DATA) await app.store.update(r);
});
afterAll(() => app.close());

describe("a team's nurse reads nothing of another team's patients", () => {
  it('a read, a vread and an instance history outside the compartment are 404, as for what does not exist', async () => {
    for (const path of ['Patient/pb', 'Observation/obs-b', 'Patient/pb/_history/1', 'Patient/pb/_history', 'CareTeam/ct-b', 'Task/task-b-done']) {
      const res = await asA('GET', path);
      expect(res.status, path).toBe(404);
      expect(JSON.stringify(await json(res))).not.toContain('Brook');
    }
    expect((await asA('GET', 'Patient/pa')).status).toBe(200);
    expect((await asA('GET', 'Observation/obs-a/_history/1')).status).toBe(200);
  });

  it('a search finds only the caseload, and its total counts only that', async () => {
    expect(await getIds('Patient')).toEqual(['Patient/pa']);
    expect(await getIds('Observation')).toEqual(['Observation/obs-a']);
    expect((await json(await asA('GET', 'Patient?_total=accurate'))).total).toBe(1);
    expect((await json(await asA('GET', 'Observation?_summary=count'))).total).toBe(1);
    expect((await json(await asA('GET', 'Patient?_count=0'))).total).toBe(1);
  });

  it('_include and _revinclude bring nothing from outside', async () => {
    expect(await getIds('Observation?_include=Observation:subject')).toEqual(['Observation/obs-a', 'Patient/pa']);
    expect(await getIds('Patient?_revinclude=Observation:subject&_revinclude=ServiceRequest:subject')).toEqual(['Observation/obs-a', 'Patient/pa']);
    expect(await getIds('ServiceRequest?_include=ServiceRequest:requester')).toEqual([]);
  });

  it('a chain or _has through a resource outside finds nothing', async () => {
    expect(await getIds('Task?patient.name=Brook')).toEqual([]);
    expect(await getIds('Observation?subject:Patient.name=Brook')).toEqual([]);
    expect(await getIds('Task?patient.name=Avery')).toEqual(['Task/task-a']);
    expect(await getIds('Patient?_has:Observation:subject:code=mood')).toEqual(['Patient/pa']);
    // the sources of _has are confined too: a shared Organization is not found through a Task it cannot see
    expect(await getIds('Organization?_has:Task:owner:status=requested')).toEqual(['Organization/cmht']);
  });

  it('type and system history leave out what the compartment does not hold', async () => {
    expect(await getIds('Patient/_history')).toEqual(['Patient/pa']);
    const system = await getIds('_history?_count=1000');
    expect(system).toContain('Patient/pa');
    expect(system.filter((r) => /pb|ct-b|obs-b|task-b|triage|Patient\/pr|ServiceRequest/.test(r))).toEqual([]);
  });

  it('a batch read is 404 for an entry outside, 200 for one inside', async () => {
    const bundle = { resourceType: 'Bundle', type: 'batch', entry: ['Patient/pb', 'Patient/pa', 'Patient?name=Brook'].map((url) => ({ request: { method: 'GET', url } })) };
    const out = await json(await asA('POST', '', bundle));
    expect(out.entry.map((e: { response: { status: string } }) => e.response.status.slice(0, 3))).toEqual(['404', '200', '200']);
    expect(out.entry[2].resource.entry ?? []).toEqual([]);
  });

  it("its team's queue is walked, the other team's is empty", async () => {
    expect(await getIds('Task?team=Organization/cmht&status=requested&_sort=priority-rank,due')).toEqual(['Task/task-a']);
    expect(await getIds('Task?team=Organization/crisis-team&_sort=priority-rank,due')).toEqual([]);
    expect(await getIds('Task?owner=Organization/front-door-team&_sort=-_lastUpdated')).toEqual([]);
  });

  it('shared types are visible to any token with the scope', async () => {
    expect((await asA('GET', 'Practitioner/dr-shared')).status).toBe(200);
    expect(await getIds('Organization?_count=100')).toHaveLength(5);
  });
});

describe('a write into a compartment the principal cannot see is 403', () => {
  it('update, patch, delete and a conditional update of another team’s patient’s record, and a create for that patient', async () => {
    const mine = await json(await asA('POST', 'Observation', observation('x', 'pa')));
    expect(mine.id).toBeDefined();
    const refused = [
      await asA('PUT', 'Observation/obs-b', { ...observation('obs-b', 'pb'), status: 'amended' }),
      await app.fhir('PATCH', 'Observation/obs-b', [{ op: 'replace', path: '/status', value: 'amended' }], { Authorization: `Bearer ${await nurseA()}`, 'Content-Type': 'application/json-patch+json' }),
      await asA('DELETE', 'Patient/pb'),
      await asA('POST', 'Observation', observation('y', 'pb')),
      // moving one's own record into another person's compartment is refused too
      await asA('PUT', `Observation/${mine.id}`, { ...observation(mine.id, 'pb') }),
      // a Task does not put a person on a team's caseload by being written by that team
      await asA('POST', 'Task', task('grab', 'pb', 'cmht')),
      await asA('POST', 'Task/task-b-done/$claim', { resourceType: 'Parameters', parameter: [] }),
    ];
    for (const res of refused) {
      expect(res.status).toBe(403);
      expect((await json(res)).issue[0].code).toBe('forbidden');
    }
    expect(((await app.store.read('Observation', 'obs-b')) as { status: string }).status).toBe('final');
    expect((await app.store.read('Patient', 'pb')).id).toBe('pb');
  });
});

describe('the front door and a sender', () => {
  it('the front door sees the referral waiting in its queue, and the person referred, and no one else', async () => {
    const token = await userToken(key, 'user/*.rs', { teams: ['front-door-team'] });
    expect(await getIds('ServiceRequest', token)).toEqual(['ServiceRequest/sr']);
    expect(await getIds('Patient', token)).toEqual(['Patient/pr']);
    expect((await app.as(token, 'GET', 'Patient/pa')).status).toBe(404);
  });

  it('a sending system sees the referrals it sent and their Tasks, nothing else', async () => {
    const { access_token } = await json(await app.token(tokenForm(await clientAssertion(gpKey, 'gp-system'), 'system/ServiceRequest.rs system/Task.rs system/Patient.rs')));
    expect(await getIds('ServiceRequest', access_token)).toEqual(['ServiceRequest/sr']);
    expect(await getIds('Task', access_token)).toEqual(['Task/triage']);
    expect((await app.as(access_token, 'GET', 'ServiceRequest/sr-other')).status).toBe(404);
    expect(await getIds('Patient', access_token)).toEqual([]);
  });

  it('a user with no teams sees the shared types only; one of every team (*) sees all', async () => {
    const none = await userToken(key, 'user/*.rs', { teams: [] });
    expect(await getIds('Patient', none)).toEqual([]);
    expect(await getIds('Practitioner', none)).toEqual(['Practitioner/dr-shared']);
    const all = await userToken(key, 'user/*.rs', { teams: ['*'] });
    expect(await getIds('Patient', all)).toEqual(['Patient/pa', 'Patient/pb', 'Patient/pr']);
  });
});

describe('the audit trail is read within the same compartment', () => {
  it("a team's nurse reads the AuditEvents about its caseload, and none about another team's people (404 for one by id)", async () => {
    const auditor = await userToken(key, 'user/*.cruds', { teams: ['*'] });
    for (const path of ['Patient/pa', 'Patient/pb']) expect((await app.as(auditor, 'GET', path)).status).toBe(200);
    const aboutB = (await json(await app.as(auditor, 'GET', 'AuditEvent?patient=Patient/pb&_count=50'))) as { entry?: { resource: { id: string } }[] };
    expect(aboutB.entry?.length).toBeGreaterThan(0);

    expect(await getIds('AuditEvent?patient=Patient/pb')).toEqual([]);
    expect((await getIds('AuditEvent?patient=Patient/pa')).length).toBeGreaterThan(0);
    const res = await asA('GET', `AuditEvent/${aboutB.entry![0].resource.id}`);
    expect(res.status).toBe(404);
    // the whole trail, as the nurse sees it: only events about the nurse's own caseload
    const all = (await json(await asA('GET', 'AuditEvent?_count=200'))) as { entry?: { resource: { entity?: { role?: { code?: string }; what?: { reference?: string } }[] } }[] };
    const patients = new Set((all.entry ?? []).map((e) => e.resource.entity?.find((x) => x.role?.code === '1')?.what?.reference));
    expect([...patients]).toEqual(['Patient/pa']);
  });
});

describe('Provenances are read with what they are about', () => {
  it("a team's nurse reads the Provenance of its own Task, and not one of another team's (404 by id, absent from searches)", async () => {
    const provenance = (id: string, target: string) => ({ resourceType: 'Provenance', id, target: [{ reference: target }], recorded: '2026-03-02T09:00:00Z', agent: [{ who: { display: 'triage rule' } }] });
    await app.store.update(provenance('prov-a', 'Task/task-a/_history/1') as Resource);
    await app.store.update(provenance('prov-b', 'Task/task-b-done/_history/1') as Resource);
    expect((await asA('GET', 'Provenance/prov-a')).status).toBe(200);
    expect((await asA('GET', 'Provenance/prov-b')).status).toBe(404);
    expect(await getIds('Provenance')).toEqual(['Provenance/prov-a']);
    expect(await getIds('Task?_id=task-a&_revinclude=Provenance:target')).toEqual(['Provenance/prov-a', 'Task/task-a']);
    const history = await getIds('_history?_count=500');
    expect(history).toContain('Provenance/prov-a');
    expect(history).not.toContain('Provenance/prov-b');
  });
});

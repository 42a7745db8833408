import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHWAY_TEAMS } from '../../src/pathway/seed-rules.js';
import { json, startAuthApp, testKey, userToken, type AuthTestApp, type TestKey, teamTask, observationOf as observation } from './support.js';

/**
 * `patient/` scopes (SMART App Launch v2) reach the patient in context only: the team's nurse
 * with `patient/*.rs` and patient `pa` in context reads pa's record, and nothing of pc, though pc
 * is on the same team's caseload (security/patient-context.ts).
 */
let key: TestKey;
let app: AuthTestApp;


const DATA = [
  ...PATHWAY_TEAMS,
  { resourceType: 'Practitioner', id: 'dr-shared', name: [{ family: 'Shared' }] },
  { resourceType: 'Patient', id: 'pa', name: [{ family: 'Avery' }] },
  { resourceType: 'Patient', id: 'pc', name: [{ family: 'Carr' }] },
  observation('obs-a', 'pa'),
  observation('obs-c', 'pc'),
  teamTask('task-a', 'pa', 'cmht'),
  teamTask('task-c', 'pc', 'cmht'),
] as Resource[];

const ids = (bundle: { entry?: { resource: Resource }[] }) => (bundle.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
const as = async (token: string, method: string, path: string, body?: unknown) => app.as(token, method, path, body);
const searchIds = async (token: string, path: string) => {
  const res = await as(token, 'GET', path);
  expect(res.status, path).toBe(200);
  return ids(await json(res));
};

beforeAll(async () => {
  key = await testKey('ES384');
  app = await startAuthApp({ idpKeys: [key], serverKey: await testKey('ES384') });
  for (const r of DATA) await app.store.update(r);
});
afterAll(() => app.close());

describe('patient/ scopes reach the patient in context only', () => {
  const inContext = (scope: string, patient = 'pa', teams = ['cmht']) => userToken(key, scope, { teams, patient });

  it('a read of another patient on the same caseload is 404; the patient in context is read', async () => {
    const token = await inContext('patient/*.rs');
    expect((await as(token, 'GET', 'Patient/pa')).status).toBe(200);
    expect((await as(token, 'GET', 'Observation/obs-a')).status).toBe(200);
    for (const path of ['Patient/pc', 'Observation/obs-c', 'Task/task-c', 'Patient/pc/_history']) expect((await as(token, 'GET', path)).status, path).toBe(404);
  });

  it('searches, a system history and _revinclude return only what is in the patient compartment, and shared types still', async () => {
    const token = await inContext('patient/*.rs');
    expect(await searchIds(token, 'Observation')).toEqual(['Observation/obs-a']);
    expect(await searchIds(token, 'Task')).toEqual(['Task/task-a']);
    expect(await searchIds(token, 'Patient?_revinclude=Observation:subject')).toEqual(['Observation/obs-a', 'Patient/pa']);
    expect(await searchIds(token, 'Practitioner')).toEqual(['Practitioner/dr-shared']);
    const history = await searchIds(token, '_history');
    expect(history.filter((r) => /Patient|Observation|Task/.test(r)).every((r) => !/pc|obs-c|task-c/.test(r))).toBe(true);
    expect(history).toContain('Observation/obs-a');
  });

  it('accepts the claim as a reference too (Patient/pa)', async () => {
    const token = await inContext('patient/Observation.rs', 'Patient/pa');
    expect(await searchIds(token, 'Observation')).toEqual(['Observation/obs-a']);
  });

  it('a write for another patient is 403; for the patient in context it is made', async () => {
    const token = await inContext('patient/Observation.crus');
    expect((await as(token, 'POST', 'Observation', observation('new-c', 'pc'))).status).toBe(403);
    expect((await as(token, 'POST', 'Observation', observation('new-a', 'pa'))).status).toBe(201);
  });

  it('a type the user/ scopes cover fully keeps the team reach; one the patient/ scope adds letters to is kept to the patient', async () => {
    // Task: user/ covers it fully, so the caseload's Tasks; Observation: patient/ adds `c`, so only pa's
    const token = await inContext('user/Task.rs user/Observation.rs patient/Observation.crs');
    expect(await searchIds(token, 'Task')).toEqual(['Task/task-a', 'Task/task-c']);
    const observations = await searchIds(token, 'Observation');
    expect(observations).toContain('Observation/obs-a');
    expect(observations).not.toContain('Observation/obs-c');
  });

  it('limits even a principal of every team (teams *) to the patient in context', async () => {
    const token = await inContext('patient/*.rs', 'pa', ['*']);
    const observations = await searchIds(token, 'Observation');
    expect(observations).toContain('Observation/obs-a');
    expect(observations).not.toContain('Observation/obs-c');
    expect((await as(token, 'GET', 'Patient/pc')).status).toBe(404);
  });

  it('without a patient in context, patient/ scopes grant nothing (403)', async () => {
    const token = await userToken(key, 'patient/*.rs', { teams: ['cmht'] });
    expect((await as(token, 'GET', 'Observation')).status).toBe(403);
  });
});

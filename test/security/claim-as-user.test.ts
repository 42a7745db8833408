import type { Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRONT_DOOR_TEAM_ID, PATHWAY, TaskCode } from '../../src/pathway/codes.js';
import { PATHWAY_TEAMS } from '../../src/pathway/seed-rules.js';
import { json, startAuthApp, testKey, userToken, type AuthTestApp, type TestKey } from './support.js';

/** issue 12: "$claim takes … practitioner … Once auth lands, the token's user is used instead." */
describe('a signed-in user works a queue as themselves', () => {
  let key: TestKey;
  let app: AuthTestApp;
  beforeAll(async () => {
    key = await testKey('ES384');
    app = await startAuthApp({ idpKeys: [key], serverKey: await testKey('ES384') });
    // the user works in the front-door team (its Organization, found by the team identifier) whose queue holds the Tasks
    for (const team of PATHWAY_TEAMS) await app.store.update(team);
    for (const id of ['nurse-a', 'nurse-b']) await app.store.update({ resourceType: 'Practitioner', id, name: [{ family: id }] });
    for (const id of ['q-1', 'q-2', 'q-3']) {
      await app.store.update({
        resourceType: 'Task',
        id,
        status: 'requested',
        intent: 'order',
        code: { coding: [{ system: PATHWAY.taskCode, code: TaskCode.triage }] },
        owner: { reference: 'Organization/front-door-team' },
      } as Task);
    }
  });
  afterAll(() => app.close());

  const claim = (token: string, task: string, practitioner?: string) =>
    app.as(token, 'POST', `Task/${task}/$claim`, { resourceType: 'Parameters', parameter: practitioner ? [{ name: 'practitioner', valueReference: { reference: practitioner } }] : [] });

  it("claims for the token's fhirUser without naming anyone", async () => {
    const token = await userToken(key, 'user/Task.rus user/Practitioner.r', { teams: [FRONT_DOOR_TEAM_ID], fhirUser: 'https://stepwise.test/fhir/Practitioner/nurse-a' });
    const res = await claim(token, 'q-1');
    expect(res.status).toBe(200);
    expect(((await json(res)) as Task).owner).toEqual({ reference: 'Practitioner/nurse-a' });
  });

  it('refuses to claim in the name of someone else, and without knowing who the user is', async () => {
    const asA = await userToken(key, 'user/Task.rus user/Practitioner.r', { teams: [FRONT_DOOR_TEAM_ID], fhirUser: 'Practitioner/nurse-a' });
    const other = await claim(asA, 'q-2', 'Practitioner/nurse-b');
    expect(other.status).toBe(403);
    expect((await json(other)).issue[0].expression).toEqual(['Parameters.parameter[0].value']);
    expect((await claim(asA, 'q-2', 'Practitioner/nurse-a')).status).toBe(200);

    const nobody = await userToken(key, 'user/Task.rus user/Practitioner.r', { teams: [FRONT_DOOR_TEAM_ID] });
    expect((await claim(nobody, 'q-3', 'Practitioner/nurse-b')).status).toBe(403);
    expect(((await (await app.as(asA, 'GET', 'Task/q-3')).json()) as Task).owner).toEqual({ reference: 'Organization/front-door-team' });
  });
});

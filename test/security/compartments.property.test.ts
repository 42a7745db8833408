import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { PATHWAY_TEAMS } from '../../src/pathway/seed-rules.js';
import { parseScopes } from '../../src/security/scopes.js';
import type { Principal } from '../../src/security/principal.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { pgliteTestDatabase, type TestDatabase } from '../support/databases.js';

/**
 * Over random assignments of people to teams (by open or finished Tasks, and by care teams),
 * every search a team's principal makes returns exactly the compartment's share of what the
 * unrestricted store returns: never more (a leak), never less.
 */
const TEAMS = PATHWAY_TEAMS.map((t) => t.id!);
const OPEN = ['requested', 'in-progress', 'on-hold'];
const CLOSED = ['completed', 'cancelled'];

const assignment = fc.array(
  fc.record({
    tasks: fc.array(fc.record({ team: fc.constantFrom(...TEAMS), status: fc.constantFrom(...OPEN, ...CLOSED) }), { maxLength: 2 }),
    careTeams: fc.subarray(TEAMS, { maxLength: 2 }),
  }),
  { minLength: 1, maxLength: 5 },
);

let t: TestDatabase;
let store: ResourceStore;
beforeAll(async () => {
  t = await pgliteTestDatabase();
  store = new ResourceStore(t.db, new FixedClock(new Date('2026-03-02T09:00:00Z')));
  for (const team of PATHWAY_TEAMS) await store.update(team);
});
afterAll(() => t?.dispose());

const nurseOf = (team: string): Principal => ({ kind: 'user', clientId: 'web', user: `nurse-${team}`, teams: [team], scopes: parseScopes('user/*.rs'), scope: 'user/*.rs' });

let run = 0;
describe('compartment property', () => {
  it('a search returns exactly the resources of the people on the team caseload and the Tasks the team holds', async () => {
    await fc.assert(
      fc.asyncProperty(assignment, async (people) => {
        const tag = `run-${++run}`;
        const expected = new Map<string, Set<string>>(TEAMS.map((team) => [team, new Set()]));
        const resources: Resource[] = [];
        people.forEach((person, i) => {
          const patient = `${tag}-p${i}`;
          resources.push({ resourceType: 'Patient', id: patient, identifier: [{ system: 'urn:run', value: tag }] });
          resources.push({ resourceType: 'Observation', id: `${patient}-obs`, status: 'final', code: { coding: [{ system: 'urn:run', code: tag }] }, subject: { reference: `Patient/${patient}` } } as Resource);
          const teamsOf = new Set<string>();
          person.tasks.forEach((task, j) => {
            const id = `${patient}-t${j}`;
            resources.push({
              resourceType: 'Task', id, status: task.status, intent: 'order', for: { reference: `Patient/${patient}` },
              owner: { reference: `Organization/${task.team}` }, extension: [{ url: PATHWAY.taskTeam, valueReference: { reference: `Organization/${task.team}` } }],
              identifier: [{ system: 'urn:run', value: tag }],
            } as Resource);
            // a Task its team holds is visible to the team whatever its status; an open one puts the person on the caseload
            expected.get(task.team)!.add(`Task/${id}`);
            if (OPEN.includes(task.status)) teamsOf.add(task.team);
          });
          if (person.careTeams.length) {
            resources.push({ resourceType: 'CareTeam', id: `${patient}-ct`, status: 'active', subject: { reference: `Patient/${patient}` }, participant: person.careTeams.map((team) => ({ member: { reference: `Organization/${team}` } })) } as Resource);
            for (const team of person.careTeams) teamsOf.add(team);
          }
          for (const team of teamsOf) {
            for (const r of [`Patient/${patient}`, `Observation/${patient}-obs`, ...person.tasks.map((_, j) => `Task/${patient}-t${j}`)]) expected.get(team)!.add(r);
          }
        });
        await store.transaction(async (tx) => {
          for (const r of resources) await tx.update(r);
        });
        for (const team of TEAMS) {
          const seen = store.for(nurseOf(team));
          const found = new Set<string>();
          for (const [type, criteria] of [['Patient', ['identifier', `urn:run|${tag}`]], ['Observation', ['code', `urn:run|${tag}`]], ['Task', ['identifier', `urn:run|${tag}`]]] as const) {
            const page = await seen.search(parseSearch(type, [[...criteria], ['_count', '100'], ['_total', 'accurate']]));
            for (const r of page.matches) found.add(`${r.resourceType}/${r.id}`);
            expect(page.total).toBe(page.matches.length);
          }
          expect([...found].sort(), team).toEqual([...expected.get(team)!].sort());
        }
      }),
      { numRuns: 25 },
    );
  });
});

import type { Resource } from '@medplum/fhirtypes';
import { PATHWAY } from '../src/pathway/codes.js';
import { pathwaySeedResources } from '../src/pathway/seed-rules.js';
import type { ResourceStore } from '../src/store/resource-store.js';

/*
 * What the fuzz suite's server holds before the first case: the pathway's rules and teams, and
 * two teams' people. The fuzzer asks as team A (the CMHT); team B (the crisis team) has a person
 * whose records A must never see. Team B's records carry markers that appear nowhere else: not in
 * the generators, not in team A's data. A response holding one has leaked B's data.
 */

export const TEAM_A = 'cmht';
export const TEAM_B = 'crisis-team';

/** Ids of team A's person and records: the generators aim at these (and at B's ids, in URLs only). */
export const A_IDS = { patient: 'fz-a-patient', observation: 'fz-a-obs', task: 'fz-a-task', condition: 'fz-a-cond' };
/** Ids of team B's records. A request naming one may see it echoed (a 404's message): checked only when the request did not name it. */
export const B_IDS = { patient: 'zb9-patient', observation: 'zb9-obs', task: 'zb9-task', careTeam: 'zb9-careteam', condition: 'zb9-cond', serviceRequest: 'zb9-referral', encounter: 'zb9-encounter', flag: 'zb9-flag' };
/** Team B's person's NHS number: the message generator uses it, so a referral matching them is tried. */
export const B_NHS_NUMBER = '9434765919';
/** Text only team B's records hold; never in any request. */
export const B_CONTENT_MARKERS = ['Bravosecret', 'QX7-crisis-note', 'Kestrelwood'];

const team = (id: string) => [{ url: PATHWAY.taskTeam, valueReference: { reference: `Organization/${id}` } }];
const subjectOf = (id: string) => ({ reference: `Patient/${id}` });

function teamAResources(): Resource[] {
  const p = A_IDS.patient;
  return [
    { resourceType: 'Patient', id: p, name: [{ family: 'Alphafuzz', given: ['Ann'] }], birthDate: '1990-01-01', gender: 'female' },
    { resourceType: 'Observation', id: A_IDS.observation, status: 'final', code: { text: 'mood' }, subject: subjectOf(p), valueString: 'low' },
    { resourceType: 'Condition', id: A_IDS.condition, subject: subjectOf(p), code: { text: 'depression' } },
    { resourceType: 'Task', id: A_IDS.task, status: 'requested', intent: 'order', priority: 'routine', for: subjectOf(p), owner: { reference: `Organization/${TEAM_A}` }, extension: team(TEAM_A) },
  ] as Resource[];
}

function teamBResources(): Resource[] {
  const p = B_IDS.patient;
  const [family, note, street] = B_CONTENT_MARKERS;
  return [
    {
      resourceType: 'Patient',
      id: p,
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: B_NHS_NUMBER }],
      name: [{ family, given: ['Brook'] }],
      address: [{ line: [`1 ${street} Road`], city: 'Leeds' }],
      birthDate: '1985-05-05',
      gender: 'male',
    },
    { resourceType: 'Observation', id: B_IDS.observation, status: 'final', code: { text: 'mood' }, subject: subjectOf(p), valueString: note },
    { resourceType: 'Condition', id: B_IDS.condition, subject: subjectOf(p), code: { text: 'psychosis' }, note: [{ text: note }] },
    { resourceType: 'Encounter', id: B_IDS.encounter, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: subjectOf(p), reasonCode: [{ text: note }] },
    { resourceType: 'Flag', id: B_IDS.flag, status: 'active', code: { text: note }, subject: subjectOf(p) },
    { resourceType: 'ServiceRequest', id: B_IDS.serviceRequest, status: 'active', intent: 'order', subject: subjectOf(p), note: [{ text: note }] },
    { resourceType: 'CareTeam', id: B_IDS.careTeam, status: 'active', subject: subjectOf(p), participant: [{ member: { reference: `Organization/${TEAM_B}` } }], note: [{ text: note }] },
    { resourceType: 'Task', id: B_IDS.task, status: 'in-progress', intent: 'order', for: subjectOf(p), owner: { reference: `Organization/${TEAM_B}` }, extension: team(TEAM_B), description: note },
  ] as Resource[];
}

/** Writes the world through the store (as the server, unaudited): the same for every target. */
export async function seedWorld(store: ResourceStore): Promise<void> {
  for (const r of [...pathwaySeedResources(), ...teamAResources(), ...teamBResources()]) await store.update(r);
}

/**
 * Team B's ids and markers that `requestText` does not itself contain: the strings no answer to it
 * may hold. A request that names B's person by NHS number (a referral) may learn their id, which
 * its own referral's subject then carries (the identity match messaging exists for); never their
 * records' content.
 */
export function forbiddenIn(requestText: string): string[] {
  const named = (id: string) => requestText.includes(id) || (id === B_IDS.patient && requestText.includes(B_NHS_NUMBER));
  const ids = Object.values(B_IDS).filter((id) => !named(id));
  return [...B_CONTENT_MARKERS.filter((m) => !requestText.includes(m)), ...ids, ...(requestText.includes(B_NHS_NUMBER) ? [] : [B_NHS_NUMBER])];
}

/** What has become of team B's records (read as the server): each should still be at version 1, as seeded. */
export async function teamBProblems(store: ResourceStore): Promise<string[]> {
  const problems: string[] = [];
  for (const r of teamBResources()) {
    const now = await store.readOrUndefined(r.resourceType, r.id!);
    if (!now) problems.push(`${r.resourceType}/${r.id} is gone`);
    else if (now.meta?.versionId !== '1') problems.push(`${r.resourceType}/${r.id} was changed (version ${now.meta?.versionId})`);
  }
  return problems;
}

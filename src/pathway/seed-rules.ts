import type { Organization, Resource } from '@medplum/fhirtypes';
import type { ResourceStore } from '../store/resource-store.js';
import { FRONT_DOOR_TEAM_ID, PATHWAY } from './codes.js';
import { readIndicatorConceptMap, readRuleCodeSystems, readTriageRules } from './rules-data.js';

/** The teams the published rules name as owners (dynamicValue owner), with fixed ids. */
export const PATHWAY_TEAMS: Organization[] = [
  team(FRONT_DOOR_TEAM_ID, 'Front-door team (single point of access)'),
  team('crisis-team', 'Crisis resolution and home treatment team'),
  team('cmht', 'Community mental health team'),
];

function team(id: string, name: string): Organization {
  return {
    resourceType: 'Organization',
    id,
    active: true,
    identifier: [{ system: PATHWAY.teamId, value: id }],
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'team', display: 'Organizational team' }] }],
    name,
  };
}

/** Everything the front door needs in the store: the rule PlanDefinition, its CodeSystems and ConceptMap, the teams. */
export function pathwaySeedResources(): Resource[] {
  return [readTriageRules(), ...readRuleCodeSystems(), readIndicatorConceptMap(), ...PATHWAY_TEAMS];
}

/**
 * Loads the published rules and the teams at start-up with PUT and fixed ids, in one transaction.
 * Idempotent: an unchanged resource gets no new version, so restarts leave history alone, and a
 * new rule-set version in profiles/rules becomes a new version of the PlanDefinition.
 */
export async function seedPathwayData(store: ResourceStore): Promise<{ written: string[] }> {
  return store.transaction(async (tx) => {
    const written: string[] = [];
    for (const resource of pathwaySeedResources()) {
      const result = await tx.update(resource);
      if (result.changed) written.push(`${resource.resourceType}/${resource.id}`);
    }
    return { written };
  });
}

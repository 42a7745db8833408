import type { Resource } from '@medplum/fhirtypes';
import { upsertAll } from '../store/seed.js';
import type { ResourceStore } from '../store/resource-store.js';
import { publishedMappingResources } from './mapping-data.js';

/**
 * The mappings' StructureMaps and ConceptMaps, written at start-up with fixed ids (the .map file's
 * name, the ConceptMap's id) so that integrators read them at StructureMap/[id] and run them with
 * $transform. The logical models and code systems stay in mappings/ (the server's validator would
 * otherwise take MHSDS code lists as bindings and refuse the codes a partner gets wrong, which are
 * reported as defects instead).
 */
export function seedPartnerMappings(store: ResourceStore): Promise<{ changed: number }> {
  return upsertAll(store, publishedMappings());
}

export function publishedMappings(): Resource[] {
  return publishedMappingResources().filter((r) => r.resourceType === 'StructureMap' || r.resourceType === 'ConceptMap');
}

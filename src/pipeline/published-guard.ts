import type { Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import { isStepwiseCanonical, STEPWISE_CANONICAL_BASE } from '../fhir/canonical.js';
import { ADMIN_SCOPE, isAdmin } from '../security/admin.js';
import type { SearchQuery } from '../fhir/search/query.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { WriteOrigin } from './write-record.js';

/**
 * What Stepwise publishes is read-only to all but an administrator (issue 13): its conformance
 * resources (profiles/: StructureDefinitions, ValueSets, CodeSystems, SearchParameters, seeded at
 * start-up) and the rule versions the front door runs (the triage PlanDefinition and its
 * CodeSystems and ConceptMap). All of them, and only they, have a canonical `url` under
 * STEPWISE_CANONICAL_BASE (R4 resource.html#canonical), so that is the test: a write that would
 * make, change or remove a resource with such a url, as sent or as stored, needs ADMIN_SCOPE.
 * Start-up seeding writes through the store, not the pipeline; the scheduler and messaging carry no
 * principal and are the server's own writes; the development principal (auth off) is an admin.
 */
export function refuseUnlessAdmin(origin: WriteOrigin, ...resources: (Resource | undefined)[]): void {
  if (!origin.principal || isAdmin(origin.principal)) return;
  const published = resources.find(isPublished);
  if (!published) return;
  throw new FhirError(FhirErrorCode.FORBIDDEN, {
    message: `${published.resourceType} ${canonicalOf(published)} is published by Stepwise (its url is under ${STEPWISE_CANONICAL_BASE}); only a token with the ${ADMIN_SCOPE} scope may change it`,
    expression: `${published.resourceType}.url`,
  });
}

/**
 * As refuseUnlessAdmin, for an update or delete of `type/id`, or of what `where` matches (a
 * conditional update): the stored versions it would replace are looked at too.
 */
export async function refuseUnlessAdminStored(store: ResourceStore, origin: WriteOrigin, type: string, id: string | undefined, next?: Resource, where?: SearchQuery): Promise<void> {
  if (!origin.principal || isAdmin(origin.principal)) return;
  refuseUnlessAdmin(origin, next);
  // only types with a canonical url can be published: others need no read
  if (!CANONICAL_TYPES.has(type)) return;
  if (id !== undefined) refuseUnlessAdmin(origin, await store.readOrUndefined(type, id));
  if (where) refuseUnlessAdmin(origin, ...(await store.matches(where)));
}

function isPublished(resource: Resource | undefined): resource is Resource {
  const url = canonicalOf(resource);
  return typeof url === 'string' && isStepwiseCanonical(url);
}

const canonicalOf = (resource: Resource | undefined): unknown => (resource as { url?: unknown } | undefined)?.url;

/** R4 resources with a canonical `url` (the definitional and conformance resources, R4 resource.html#canonical). */
const CANONICAL_TYPES = new Set([
  'ActivityDefinition', 'CapabilityStatement', 'ChargeItemDefinition', 'CodeSystem', 'CompartmentDefinition', 'ConceptMap', 'EffectEvidenceSynthesis',
  'EventDefinition', 'Evidence', 'EvidenceVariable', 'ExampleScenario', 'GraphDefinition', 'ImplementationGuide', 'Library', 'Measure', 'MessageDefinition',
  'NamingSystem', 'OperationDefinition', 'PlanDefinition', 'Questionnaire', 'ResearchDefinition', 'ResearchElementDefinition', 'RiskEvidenceSynthesis',
  'SearchParameter', 'StructureDefinition', 'StructureMap', 'TerminologyCapabilities', 'TestScript', 'ValueSet',
]);

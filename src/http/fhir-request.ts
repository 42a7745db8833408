import type { Resource } from '@medplum/fhirtypes';

/**
 * One FHIR interaction, independent of Hono: the REST routes and the entries of a batch or
 * transaction Bundle are both turned into this and go through the same handlers.
 */
export interface FhirRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the FHIR base, without leading slash: `Patient/123/_history/2`. */
  path: string;
  query: [string, string][];
  /** Parsed body: a resource, a JSON Patch array, or undefined. */
  body?: unknown;
  /**
   * Set only by transaction processing: the id a create must use, given out before any entry runs
   * so that entries can refer to each other (http://hl7.org/fhir/R4/http.html#trules).
   */
  assignedId?: string;
  headers: {
    ifMatch?: string;
    ifNoneMatch?: string;
    ifNoneExist?: string;
    ifModifiedSince?: string;
    prefer?: string;
    /** Messaging and BaRS headers (https://digital.nhs.uk/developer/api-catalogue/booking-and-referral-fhir). */
    requestId?: string;
    correlationId?: string;
    targetIdentifier?: string;
    requestingSoftware?: string;
    endUserOrganisation?: string;
    requestingPractitioner?: string;
    useContext?: string;
  };
}

export interface FhirResponse {
  status: number;
  body?: Resource;
  headers: Record<string, string>;
}

/** What a handler needs to turn results into absolute URLs. */
export interface RequestScope {
  baseUrl: string;
}

import type { Resource } from '@medplum/fhirtypes';
import type { RawMessageHeaders } from '../messaging/headers.js';

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
  /** The FHIR REST headers, and the messaging and BaRS headers (see messaging/headers.ts). */
  headers: {
    ifMatch?: string;
    ifNoneMatch?: string;
    ifNoneExist?: string;
    ifModifiedSince?: string;
    prefer?: string;
  } & RawMessageHeaders;
}

export interface FhirResponse {
  status: number;
  body?: Resource;
  headers: Record<string, string>;
}

import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { informational } from '../../errors.js';
import { versionHeaders } from '../etag.js';
import type { FhirRequest, FhirResponse } from '../fhir-request.js';
import { parsePrefer } from '../prefer.js';

/**
 * The answer to a write, shaped by `Prefer: return=` (http://hl7.org/fhir/R4/http.html#ops). An
 * OperationOutcome carries the warnings validation found besides saying what was done.
 */
export function writeResponse(req: FhirRequest, baseUrl: string, status: number, resource: Resource, message: string, warnings: OperationOutcomeIssue[] = []): FhirResponse {
  const headers = versionHeaders(resource, baseUrl, status === 201 || req.method === 'PUT' || req.method === 'PATCH');
  switch (parsePrefer(req.headers.prefer).return) {
    case 'minimal':
      return { status, headers };
    case 'OperationOutcome':
      return { status, headers, body: withIssues(informational(message), warnings) };
    default:
      return { status, headers, body: resource };
  }
}

function withIssues(outcome: ReturnType<typeof informational>, issues: OperationOutcomeIssue[]): ReturnType<typeof informational> {
  return issues.length ? { ...outcome, issue: [...outcome.issue, ...issues] } : outcome;
}

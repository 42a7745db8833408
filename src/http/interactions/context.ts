import type { CapabilityStatementRest, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest } from '../../errors.js';
import type { PatchLimits } from '../../fhir/json-patch.js';
import type { ResourceValidator } from '../../fhir/resource-validator.js';
import { isResourceType } from '../../fhir/resource-types.js';
import type { MessageProcessor } from '../../messaging/processor.js';
import type { WriteOrigin, WritePipeline } from '../../pipeline/write-pipeline.js';
import type { Principal } from '../../security/principal.js';
import type { ResourceStore } from '../../store/resource-store.js';
import type { FhirRequest } from '../fhir-request.js';

/** What every interaction handler is given. `store` is transaction-bound inside a transaction Bundle. */
export interface InteractionContext {
  store: ResourceStore;
  validator: ResourceValidator;
  /** `reject` refuses a write with validation errors (the default); `log` accepts it and logs. */
  writeValidation: 'reject' | 'log';
  onInvalidWrite?: (resource: Resource, issues: OperationOutcomeIssue[]) => void;
  baseUrl: string;
  maxBundleEntries: number;
  /** What a JSON Patch may do (fhir/json-patch.ts): the input limits and MAX_BODY_BYTES; defaults when absent. */
  patchLimits?: PatchLimits;
  /** FHIR messaging and the BaRS receiver ($process-message). */
  messaging?: MessageProcessor;
  /** Every write goes through it: validate, policies, store, audit. */
  pipeline: WritePipeline;
  /** Where the request came from, for the audit of what it writes. */
  origin: WriteOrigin;
  /**
   * Who is asking (security/principal.ts): every route checks its scopes (security/access.ts), and
   * the store is to confine reads to its organisation and teams.
   */
  principal: Principal;
  /** The CapabilityStatement's rest.security, when authentication is on. */
  security?: CapabilityStatementRest['security'];
}

export type Handler = (ctx: InteractionContext, req: FhirRequest, params: Record<string, string>) => Promise<import('../fhir-request.js').FhirResponse>;

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function checkType(type: string): void {
  if (!isResourceType(type)) throw new FhirError(FhirErrorCode.NOT_FOUND, `Unknown resource type '${type}'`);
}

/** Ids follow http://hl7.org/fhir/R4/datatypes.html#id. */
export function checkId(id: string): void {
  if (!ID.test(id)) throw badRequest(`Invalid id '${id}': ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'`);
}

/** The body of a create or update: a JSON object of the type named in the URL. */
export function resourceBody(req: FhirRequest, type: string): Resource {
  const body = req.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a FHIR resource');
  const rt = (body as { resourceType?: unknown }).resourceType;
  if (typeof rt !== 'string') throw badRequest('The resource has no resourceType', 'resourceType');
  if (rt !== type) throw badRequest(`The resource is a ${rt} but the URL names ${type}`, `${rt}.resourceType`);
  return body as Resource;
}

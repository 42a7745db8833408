import type { Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest, informational } from '../../errors.js';
import { applyJsonPatch, DEFAULT_PATCH_LIMITS, patchOperations } from '../../fhir/json-patch.js';
import { parseSearch } from '../../fhir/search/parse.js';
import { parseVersionTag, requiredVersion } from '../etag.js';
import type { FhirRequest, FhirResponse } from '../fhir-request.js';
import { checkId, checkType, resourceBody, type Handler, type InteractionContext } from './context.js';
import { writeResponse } from './representation.js';

/** POST [type] (http://hl7.org/fhir/R4/http.html#create), conditional with If-None-Exist. */
export const createResource: Handler = async (ctx, req, { type }) => {
  checkType(type);
  // "the server SHALL ignore" a client id on create: the server assigns one
  const { id: _ignored, ...resource } = resourceBody(req, type);
  if (req.headers.ifNoneExist) {
    const text = req.headers.ifNoneExist.replace(/^[^?]*\?/, '');
    const result = await ctx.pipeline.create(ctx.store, resource as Resource, ctx.origin, { ifNoneExist: { query: criteria(type, text, 'If-None-Exist'), text } });
    return writeResponse(req, ctx.baseUrl, result.created ? 201 : 200, result.resource, result.created ? 'Created' : 'A matching resource exists; nothing was created', result.warnings);
  }
  const created = await ctx.pipeline.create(ctx.store, resource as Resource, ctx.origin, { id: req.assignedId });
  return writeResponse(req, ctx.baseUrl, 201, created.resource, `Created ${type}/${created.resource.id}`, created.warnings);
};

/** PUT [type]/[id] (http://hl7.org/fhir/R4/http.html#update); creates when the id is new. */
export const updateResource: Handler = async (ctx, req, { type, id }) => {
  checkType(type);
  checkId(id);
  const resource = resourceBody(req, type);
  if (resource.id === undefined) throw badRequest('The resource must carry the id of the URL', `${type}.id`);
  if (resource.id !== id) throw badRequest(`The resource id '${resource.id}' does not match the URL id '${id}'`, `${type}.id`);
  const ifMatch = requiredVersion(parseVersionTag(req.headers.ifMatch, 'If-Match'), `${type}/${id}`);
  const result = await ctx.pipeline.update(ctx.store, resource, ctx.origin, { ifMatch });
  return writeResponse(req, ctx.baseUrl, result.created ? 201 : 200, result.resource, result.changed ? 'Updated' : 'No change', result.warnings);
};

/** PUT [type]?criteria (http://hl7.org/fhir/R4/http.html#cond-update). */
export const conditionalUpdate: Handler = async (ctx, req, { type }) => {
  checkType(type);
  const resource = resourceBody(req, type);
  const text = new URLSearchParams(req.query).toString();
  const ifMatch = requiredVersion(parseVersionTag(req.headers.ifMatch, 'If-Match'), `the ${type} matching '${text}'`);
  const result = await ctx.pipeline.update(ctx.store, resource, ctx.origin, { ifMatch, where: { query: criteria(type, text, 'criteria'), text } });
  return writeResponse(req, ctx.baseUrl, result.created ? 201 : 200, result.resource, result.created ? 'Created' : 'Updated', result.warnings);
};

/** PATCH [type]/[id] with a JSON Patch document (http://hl7.org/fhir/R4/http.html#patch). */
export const patchResource: Handler = async (ctx, req, { type, id }) => {
  checkType(type);
  checkId(id);
  return patchById(ctx, req, type, id);
};

/** PATCH [type]?criteria: patches the single match. */
export const conditionalPatch: Handler = async (ctx, req, { type }) => {
  checkType(type);
  const text = new URLSearchParams(req.query).toString();
  const found = await ctx.store.matches(criteria(type, text, 'criteria'));
  if (found.length !== 1) throw new FhirError(found.length ? FhirErrorCode.PRECONDITION_FAILED : FhirErrorCode.NOT_FOUND, `Conditional patch '${text}' matched ${found.length} resources`);
  return patchById(ctx, req, type, found[0].id!);
};

async function patchById(ctx: InteractionContext, req: FhirRequest, type: string, id: string) {
  const limits = ctx.patchLimits ?? DEFAULT_PATCH_LIMITS;
  const ops = patchOperations(req.body, limits);
  const ifMatchTag = parseVersionTag(req.headers.ifMatch, 'If-Match');
  const apply = (current: Resource): Resource => {
    const patched = applyJsonPatch(current as unknown as Record<string, unknown>, ops, limits) as unknown as Resource;
    if (patched.resourceType !== type || patched.id !== id) throw new FhirError(FhirErrorCode.UNPROCESSABLE, { message: 'A patch may not change resourceType or id', expression: `${type}.id` });
    return patched;
  };
  const result = await ctx.pipeline.patch(ctx.store, type, id, apply, ctx.origin, () => requiredVersion(ifMatchTag, `${type}/${id}`));
  return writeResponse(req, ctx.baseUrl, 200, result.resource, result.changed ? 'Patched' : 'No change', result.warnings);
}

/** DELETE [type]/[id] (http://hl7.org/fhir/R4/http.html#delete). */
export const deleteResource: Handler = async (ctx, req, { type, id }) => {
  checkType(type);
  checkId(id);
  const ifMatch = requiredVersion(parseVersionTag(req.headers.ifMatch, 'If-Match'), `${type}/${id}`);
  const result = await ctx.pipeline.delete(ctx.store, type, id, ctx.origin, { ifMatch });
  return deleted(result.versionId, result.deleted ? `Deleted ${type}/${id}` : `${type}/${id} did not exist or was already deleted`);
};

/** DELETE [type]?criteria (http://hl7.org/fhir/R4/http.html#cdelete): a single match at most. */
export const conditionalDelete: Handler = async (ctx, req, { type }) => {
  checkType(type);
  const text = new URLSearchParams(req.query).toString();
  const result = await ctx.pipeline.deleteWhere(ctx.store, { query: criteria(type, text, 'criteria'), text }, ctx.origin);
  return deleted(result.versionId, result.deleted ? 'Deleted the matching resource' : 'No resource matched; nothing was deleted');
};

function deleted(versionId: number | undefined, message: string): FhirResponse {
  const headers: Record<string, string> = versionId ? { ETag: `W/"${versionId}"` } : {};
  return { status: 200, headers, body: informational(message) };
}

/** Criteria of a conditional interaction: strict, so a misspelt parameter can never match everything. */
function criteria(type: string, text: string, name: string) {
  const q = parseSearch(type, [...new URLSearchParams(text)], { strict: true });
  if (q.filters.length === 0) throw badRequest(`Conditional ${name} needs at least one search criterion`, name);
  return q;
}

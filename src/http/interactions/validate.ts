import type { OperationOutcome, OperationOutcomeIssue, Parameters, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../errors.js';
import { checkId, checkType, type Handler } from './context.js';

const MODES = new Set(['create', 'update', 'delete']);

/**
 * POST [type]/$validate and POST [type]/[id]/$validate
 * (http://hl7.org/fhir/R4/operation-resource-validate.html). The body is a Parameters resource
 * (resource, mode, profile) or the resource itself; mode and profile may also be URL parameters.
 * The answer is 200 with an OperationOutcome listing every issue: validation was performed.
 */
export const validateOperation: Handler = async (ctx, req, { type, id }) => {
  checkType(type);
  if (id !== undefined) checkId(id);
  const { resource, mode, profile } = validateInput(req.body, req.query);
  if (mode && !MODES.has(mode)) throw badRequest(`mode must be create, update or delete, got '${mode}'`, 'Parameters.parameter[mode]');
  if ((mode === 'update' || mode === 'delete') && id === undefined) throw badRequest(`mode=${mode} needs the instance URL [type]/[id]/$validate`, 'Parameters.parameter[mode]');

  const issues: OperationOutcomeIssue[] = [];
  if (mode === 'delete') {
    // deleting is always allowed here (no referential integrity), but the resource must exist
    await ctx.store.read(type, id!);
  } else {
    if (!resource) throw badRequest('$validate needs a resource (unless mode=delete)', 'Parameters.parameter[resource]');
    if (resource.resourceType !== type) throw badRequest(`The resource is a ${resource.resourceType} but the URL names ${type}`, `${resource.resourceType}.resourceType`);
    issues.push(...ctx.validator.validate(resource, { profiles: profile ? [profile] : [] }));
    if (mode === 'update') {
      if (resource.id !== id) issues.push(error('invalid', `${type}.id`, `The resource id '${resource.id ?? ''}' must match the URL id '${id}' for an update`));
    }
  }
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: issues.length ? issues : [{ severity: 'information', code: 'informational', diagnostics: `No issues found${mode ? `: acceptable as a ${mode}` : ''}` }],
  };
  return { status: 200, headers: {}, body: outcome };
};

function validateInput(body: unknown, query: [string, string][]): { resource?: Resource; mode?: string; profile?: string } {
  const q = new Map(query);
  let resource: Resource | undefined;
  let mode = q.get('mode');
  let profile = q.get('profile');
  const b = body as Resource | undefined;
  if (b?.resourceType === 'Parameters') {
    for (const p of (b as Parameters).parameter ?? []) {
      if (p.name === 'resource') resource = p.resource;
      else if (p.name === 'mode') mode = p.valueCode ?? mode;
      else if (p.name === 'profile') profile = p.valueCanonical ?? p.valueUri ?? profile;
    }
  } else if (b) {
    resource = b;
  }
  return { resource, mode, profile };
}

function error(code: OperationOutcomeIssue['code'], expression: string, message: string): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics: message, details: { text: message }, expression: [expression] };
}

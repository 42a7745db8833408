import type { OperationOutcome, OperationOutcomeIssue, Parameters, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../errors.js';
import { checkId, checkType, type Handler } from './context.js';
import { readReferencedResources } from './stored-references.js';

const MODES = new Set(['create', 'update', 'delete']);

/**
 * POST [type]/$validate and POST [type]/[id]/$validate
 * (http://hl7.org/fhir/R4/operation-resource-validate.html). The body is a Parameters resource
 * (resource, mode, profile) or the resource itself; mode and profile may also be URL parameters.
 * The answer is 200 with an OperationOutcome listing every issue: validation was performed. A
 * meta.profile the validator does not know is a warning here whatever UNKNOWN_PROFILE says (that
 * setting is about writes); a `profile` asked for that it does not know is an error. Resources it
 * refers to that are stored here (and visible to the caller) are read, so that a reference's target
 * profiles are checked (stored-references.ts).
 */
export const validateOperation: Handler = async (ctx, req, { type, id }) => {
  checkType(type);
  if (id !== undefined) checkId(id);
  const { resource, mode, profile } = validateInput(req.body, req.query, type);
  if (mode && !MODES.has(mode)) throw badRequest(`mode must be create, update or delete, got '${mode}'`, 'Parameters.parameter[mode]');
  if ((mode === 'update' || mode === 'delete') && id === undefined) throw badRequest(`mode=${mode} needs the instance URL [type]/[id]/$validate`, 'Parameters.parameter[mode]');

  const issues: OperationOutcomeIssue[] = [];
  if (mode === 'delete') {
    // deleting is always allowed here (no referential integrity), but the resource must exist
    await ctx.store.read(type, id!);
  } else {
    if (!resource) throw badRequest('$validate needs a resource (unless mode=delete)', 'Parameters.parameter[resource]');
    if (resource.resourceType !== type) throw badRequest(`The resource is a ${resource.resourceType} but the URL names ${type}`, `${resource.resourceType}.resourceType`);
    // profiles, value sets and code systems stored a moment ago, by any instance, are used (issue 15)
    await ctx.validator.prepare?.(ctx.store.queryable);
    // an extension without a known definition is an error here, as in the HL7 validator (UNKNOWN_EXTENSION is about writes)
    // stored resources it refers to are checked against the references' target profiles
    const resolveReference = await readReferencedResources(ctx.store, resource, ctx.baseUrl);
    issues.push(...ctx.validator.validate(resource, { profiles: profile ? [profile] : [], unknownExtension: 'error', resolveReference, globalProfiles: true }));
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

/** The input parameters of $validate (http://hl7.org/fhir/R4/resource-operation-validate.html). */
const INPUT_NAMES = new Set(['resource', 'mode', 'profile']);

/**
 * Whether a Parameters body is the operation's input rather than the resource to validate. For any
 * type but Parameters it is always the input. For `Parameters/$validate` both readings are possible
 * (operations.html: a single resource input may be posted as the body): the body is the input when
 * it has only the operation's parameters (resource, mode, profile) and names the resource to
 * validate, or asks for mode=delete; any other Parameters is the resource to validate. To validate
 * a Parameters that looks like the input, wrap it in the `resource` parameter.
 */
function isOperationInput(body: Parameters, type: string): boolean {
  if (type !== 'Parameters') return true;
  const params = body.parameter ?? [];
  if (params.length === 0 || !params.every((p) => typeof p?.name === 'string' && INPUT_NAMES.has(p.name) && !p.part)) return false;
  return params.some((p) => (p.name === 'resource' && p.resource !== undefined) || (p.name === 'mode' && p.valueCode === 'delete'));
}

function validateInput(body: unknown, query: [string, string][], type: string): { resource?: Resource; mode?: string; profile?: string } {
  const q = new Map(query);
  let resource: Resource | undefined;
  let mode = q.get('mode');
  let profile = q.get('profile');
  const b = body as Resource | undefined;
  if (b?.resourceType === 'Parameters' && isOperationInput(b as Parameters, type)) {
    ((b as Parameters).parameter ?? []).forEach((p, i) => {
      const where = `Parameters.parameter[${i}]`;
      if (p?.name === 'resource') {
        if (p.resource === undefined) throw badRequest('The resource parameter of $validate carries a resource (parameter.resource)', `${where}.resource`);
        resource = p.resource;
      } else if (p?.name === 'mode') {
        if (typeof p.valueCode !== 'string') throw badRequest('The mode parameter of $validate is a code (valueCode)', `${where}.valueCode`);
        mode = p.valueCode;
      } else if (p?.name === 'profile') {
        const url = p.valueUri ?? p.valueCanonical;
        if (typeof url !== 'string') throw badRequest('The profile parameter of $validate is a uri (valueUri)', `${where}.valueUri`);
        profile = url;
      }
    });
  } else if (b) {
    resource = b;
  }
  return { resource, mode, profile };
}

function error(code: OperationOutcomeIssue['code'], expression: string, message: string): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics: message, details: { text: message }, expression: [expression] };
}

import { FhirError, FhirErrorCode } from '../errors.js';
import type { FhirRequest } from '../http/fhir-request.js';
import type { Handler } from '../http/interactions/context.js';
import type { Principal } from './principal.js';
import { allows, type Permission } from './scopes.js';

/**
 * What each route of the FHIR route table (http/fhir-router.ts) needs of the caller's SMART
 * scopes. The letters follow SMART App Launch v2's table: c create; r read, vread and instance
 * history; u update and patch; d delete; s search and type or system history. Every route needs
 * a rule here, or the router does not load: a new route cannot be left open by forgetting it.
 *
 * The check runs where the route's handler is called, so REST calls and the entries of batch and
 * transaction Bundles are checked alike (each entry as itself).
 */

export interface Access {
  /** A resource type, or `*`: every type (a system-wide interaction). */
  type: string;
  permission: Permission;
}

/**
 * `public`: no token needed (the CapabilityStatement, http://hl7.org/fhir/smart-app-launch/conformance.html).
 * Otherwise a valid token, and at least one of `anyOf` granted in full (none listed: the token is enough).
 */
export type Requirement = { public: true } | { public?: false; anyOf: Access[][] };

type Rule = (params: Record<string, string>, req: FhirRequest) => Requirement;

const PUBLIC: Requirement = { public: true };
const TOKEN: Requirement = { anyOf: [[]] };
const all = (...accesses: Access[]): Requirement => ({ anyOf: [accesses] });
const on = (type: string, ...permissions: Permission[]): Access[] => permissions.map((permission) => ({ type, permission }));

/** Conditional interactions search first, so they also need `s`: their criteria reveal what exists. */
const conditional = (type: string, permission: Permission): Requirement => all(...on(type, permission, 's'));

const TASK_OPERATIONS = ['claim', 'release', 'accept', 'reject', 'complete'];

const RULES: Record<string, Rule> = {
  'GET metadata': () => PUBLIC,
  // batch and transaction: the Bundle itself needs a token; each entry is checked as itself
  'POST ': () => TOKEN,
  'GET _history': () => all(...on('*', 's')),
  // a FHIR message creates what it carries, led by the referral: the BaRS sender's scope is
  // ServiceRequest.c; a general messaging client may hold MessageHeader.c instead
  'POST $process-message': () => ({ anyOf: [on('ServiceRequest', 'c'), on('MessageHeader', 'c')] }),
  // any other method on $process-message is answered 405 (BaRS): a token is enough to hear that
  'GET $process-message': () => TOKEN,
  'PUT $process-message': () => TOKEN,
  'PATCH $process-message': () => TOKEN,
  'DELETE $process-message': () => TOKEN,
  // outbound delivery's operators' view and replay: a token, and the stepwise/admin scope checked by the handler (http/interactions/outbox.ts)
  'GET $outbox': () => TOKEN,
  'POST $outbox-replay': () => TOKEN,
  // a package writes StructureDefinitions, ValueSets and CodeSystems and records itself as an ImplementationGuide; the handler also asks for stepwise/admin
  'POST $load-package': () => all(...on('StructureDefinition', 'u'), ...on('ValueSet', 'u'), ...on('CodeSystem', 'u'), ...on('ImplementationGuide', 'u')),
  // a partner payload creates or updates what it carries, led by the referral, as a message does;
  // $transform reads the map and stores nothing
  'POST $ingest': () => all(...on('ServiceRequest', 'c'), ...on('ServiceRequest', 'u')),
  'POST StructureMap/$transform': () => all(...on('StructureMap', 'r'), ...on('StructureMap', 's')),
  'POST StructureMap/:id/$transform': () => all(...on('StructureMap', 'r')),
  'GET MessageDefinition': () => all(...on('MessageDefinition', 's')),
  'GET ServiceRequest': () => all(...on('ServiceRequest', 's')),
  'GET ServiceRequest/:id': () => all(...on('ServiceRequest', 'r')),
  // $apply reads the rule set and the referral it is applied to; it stores nothing
  'POST PlanDefinition/:id/$apply': () => all(...on('PlanDefinition', 'r'), ...on('ServiceRequest', 'r')),
  'GET PlanDefinition/:id/$apply': () => all(...on('PlanDefinition', 'r'), ...on('ServiceRequest', 'r')),
  // a measure reads its definition and counts Tasks (within the principal's compartment); it stores nothing
  'GET Measure/:id/$evaluate-measure': () => all(...on('Measure', 'r'), ...on('Task', 's')),
  'POST Measure/:id/$evaluate-measure': () => all(...on('Measure', 'r'), ...on('Task', 's')),
  // working a queue changes the Task
  ...Object.fromEntries(TASK_OPERATIONS.map((name) => [`POST Task/:id/$${name}`, () => all(...on('Task', 'u'))])),
  // $validate stores and reads nothing; at an instance (mode=update or delete) it reads that resource
  'POST :type/$validate': () => TOKEN,
  'POST :type/:id/$validate': ({ type }) => all(...on(type, 'r')),
  'GET :type': ({ type }) => all(...on(type, 's')),
  'POST :type/_search': ({ type }) => all(...on(type, 's')),
  'POST :type': ({ type }, req) => (req.headers.ifNoneExist ? conditional(type, 'c') : all(...on(type, 'c'))),
  'PUT :type': ({ type }) => conditional(type, 'u'),
  'PATCH :type': ({ type }) => conditional(type, 'u'),
  'DELETE :type': ({ type }) => conditional(type, 'd'),
  'GET :type/_history': ({ type }) => all(...on(type, 's')),
  'GET :type/:id': ({ type }) => all(...on(type, 'r')),
  // an update that creates the resource (updateCreate) is still an update to the client
  'PUT :type/:id': ({ type }) => all(...on(type, 'u')),
  'PATCH :type/:id': ({ type }) => all(...on(type, 'u')),
  'DELETE :type/:id': ({ type }) => all(...on(type, 'd')),
  'GET :type/:id/_history': ({ type }) => all(...on(type, 'r')),
  'GET :type/:id/_history/:vid': ({ type }) => all(...on(type, 'r')),
};

/** The access check of one route, looked up once when the route table is compiled. */
export type AccessCheck = (principal: Principal, req: FhirRequest, params: Record<string, string>) => void;

export function accessCheck(method: string, pattern: string): AccessCheck {
  const rule = RULES[`${method} ${pattern}`];
  if (!rule) throw new Error(`No access rule for the route ${method} /${pattern}: add one to src/security/access.ts`);
  return (principal, req, params) => requireAccess(principal, rule(params, req), `${req.method} /${req.path}`);
}

/** The handler behind its access check. */
export function guarded(check: AccessCheck, handler: Handler): Handler {
  return (ctx, req, params) => {
    check(ctx.principal, req, params);
    return handler(ctx, req, params);
  };
}

/** 403 (code `forbidden`) unless the principal's scopes meet the requirement. */
export function requireAccess(principal: Principal, requirement: Requirement, what: string): void {
  if (requirement.public) return;
  if (principal.kind === 'anonymous') throw new FhirError(FhirErrorCode.UNAUTHORIZED, `${what} needs a bearer token`);
  if (requirement.anyOf.some((accesses) => accesses.every((a) => allows(principal.scopes, a.type, a.permission)))) return;
  throw forbidden(requirement.anyOf, what);
}

function forbidden(anyOf: Access[][], what: string): FhirError {
  const needs = anyOf.map((accesses) => accesses.map((a) => `${a.type}.${a.permission}`).join(' and ')).join(', or ');
  return new FhirError(FhirErrorCode.FORBIDDEN, `The token's scopes do not allow ${what}: it needs ${needs}`);
}

import { FhirError, FhirErrorCode } from '../errors.js';
import { STEPWISE_CANONICAL_BASE } from '../fhir/canonical.js';
import { accessCheck, guarded, type AccessCheck } from '../security/access.js';
import type { FhirRequest, FhirResponse } from './fhir-request.js';
import { processBundle } from './interactions/batch.js';
import { capabilitiesOf, interaction, operation, supports, type Offer, type OfferingRoute } from './interactions/capabilities.js';
import { EVALUATE_MEASURE_DEFINITION, evaluateMeasureOperation } from './interactions/evaluate-measure.js';
import { applyPlanDefinition } from './interactions/plan-definition-apply.js';
import { readReferral, searchMessageDefinition, searchReferrals } from './interactions/message-definition.js';
import { processMessage, processMessageOtherMethod } from './interactions/process-message.js';
import { listOutboxOperation, replayOutboxOperation } from './interactions/outbox.js';
import type { Handler, InteractionContext } from './interactions/context.js';
import { instanceHistory, systemHistory, typeHistory } from './interactions/history.js';
import { readResource, vreadResource } from './interactions/read.js';
import { searchType } from './interactions/search.js';
import { taskOperation, taskOperationDefinition } from './interactions/task-operations.js';
import { validateOperation } from './interactions/validate.js';
import { LOAD_PACKAGE_PATH, loadPackageOperation } from './interactions/load-package.js';
import { INGEST_PATH, ingestOperation } from './interactions/ingest.js';
import { transformOperation } from './interactions/structure-map-transform.js';
import { conditionalDelete, conditionalPatch, conditionalUpdate, createResource, deleteResource, patchResource, updateResource } from './interactions/write.js';

type Method = FhirRequest['method'];
type Route = [Method, string, Handler, ...Offer[]];

const PROCESS_MESSAGE = operation('process-message', 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message');
const VALIDATE = operation('validate', 'http://hl7.org/fhir/OperationDefinition/Resource-validate');
/** Stepwise's own: loads a FHIR NPM package's conformance resources (issue 15). */
const LOAD_PACKAGE = operation('load-package', `${STEPWISE_CANONICAL_BASE}/OperationDefinition/load-package`);
const APPLY = operation('apply', 'http://hl7.org/fhir/OperationDefinition/PlanDefinition-apply');
const EVALUATE_MEASURE = operation('evaluate-measure', EVALUATE_MEASURE_DEFINITION);
const INGEST = operation('ingest', `${STEPWISE_CANONICAL_BASE}/OperationDefinition/ingest`);
/** Operators' view of outbound delivery (src/delivery/README.md): the outbox listed, dead letters sent again. */
const OUTBOX = operation('outbox', `${STEPWISE_CANONICAL_BASE}/OperationDefinition/outbox`);
const OUTBOX_REPLAY = operation('outbox-replay', `${STEPWISE_CANONICAL_BASE}/OperationDefinition/outbox-replay`);
const TRANSFORM = operation('transform', 'http://hl7.org/fhir/OperationDefinition/StructureMap-transform');
/** Work-queue operations on a Task (pathway/tasks/operations.ts). */
const TASK_OPERATIONS: Route[] = (['claim', 'release', 'accept', 'reject', 'complete'] as const).map((name) => ['POST', `Task/:id/$${name}`, taskOperation(name), operation(name, taskOperationDefinition(name))]);

/**
 * The FHIR RESTful API (http://hl7.org/fhir/R4/http.html): one line per interaction, with what it
 * offers in the CapabilityStatement, which is generated from this table. REST calls and the
 * entries of batch and transaction Bundles are both routed here.
 */
const routes: Route[] = [
  ['GET', 'metadata', capabilitiesOf(() => offeringRoutes)],
  ['POST', '', processBundle, interaction('transaction'), interaction('batch')],
  ['GET', '_history', systemHistory, interaction('history-system')],
  ['POST', '$process-message', processMessage, PROCESS_MESSAGE],
  ['POST', LOAD_PACKAGE_PATH, loadPackageOperation, LOAD_PACKAGE],
  // a partner payload (mhsds-json, mhsds-csv, nhs111-pem, bars) mapped and routed through the front door (issue 14)
  ['POST', INGEST_PATH, ingestOperation, INGEST],
  // BaRS: any other method is answered 405 with the BaRS code, so these offer nothing
  ['GET', '$process-message', processMessageOtherMethod],
  ['PUT', '$process-message', processMessageOtherMethod],
  ['PATCH', '$process-message', processMessageOtherMethod],
  ['DELETE', '$process-message', processMessageOtherMethod],
  // operators: outbound messages to partners, and replaying dead ones (delivery/; stepwise/admin)
  ['GET', '$outbox', listOutboxOperation, OUTBOX],
  ['POST', '$outbox-replay', replayOutboxOperation, OUTBOX_REPLAY],
  // the BaRS receiver's search and read stand in for the generic ones of their type
  ['GET', 'MessageDefinition', searchMessageDefinition, interaction('search-type')],
  ['GET', 'ServiceRequest', searchReferrals, interaction('search-type')],
  ['GET', 'ServiceRequest/:id', readReferral, interaction('read')],
  ['POST', 'PlanDefinition/:id/$apply', applyPlanDefinition, APPLY],
  ['GET', 'PlanDefinition/:id/$apply', applyPlanDefinition, APPLY],
  ['GET', 'Measure/:id/$evaluate-measure', evaluateMeasureOperation, EVALUATE_MEASURE],
  ['POST', 'Measure/:id/$evaluate-measure', evaluateMeasureOperation, EVALUATE_MEASURE],
  ['POST', 'StructureMap/$transform', transformOperation, TRANSFORM],
  ['POST', 'StructureMap/:id/$transform', transformOperation, TRANSFORM],
  ...TASK_OPERATIONS,
  ['POST', ':type/$validate', validateOperation, VALIDATE],
  ['POST', ':type/:id/$validate', validateOperation, VALIDATE],
  ['GET', ':type', searchType, interaction('search-type')],
  ['POST', ':type/_search', searchType, interaction('search-type')],
  ['POST', ':type', createResource, interaction('create'), supports({ conditionalCreate: true })],
  ['PUT', ':type', conditionalUpdate, interaction('update'), supports({ conditionalUpdate: true })],
  ['PATCH', ':type', conditionalPatch, interaction('patch')],
  ['DELETE', ':type', conditionalDelete, interaction('delete'), supports({ conditionalDelete: 'single' })],
  ['GET', ':type/_history', typeHistory, interaction('history-type')],
  ['GET', ':type/:id', readResource, interaction('read'), supports({ conditionalRead: 'full-support' })],
  ['PUT', ':type/:id', updateResource, interaction('update'), supports({ versioning: 'versioned-update', updateCreate: true })],
  ['PATCH', ':type/:id', patchResource, interaction('patch')],
  ['DELETE', ':type/:id', deleteResource, interaction('delete')],
  ['GET', ':type/:id/_history', instanceHistory, interaction('history-instance')],
  ['GET', ':type/:id/_history/:vid', vreadResource, interaction('vread'), supports({ readHistory: true })],
];

/** The route table as the CapabilityStatement reads it. */
export const offeringRoutes: readonly OfferingRoute[] = routes.map(([method, pattern, , ...offers]) => ({ method, pattern, offers }));

// every handler behind its route's scope check (security/access.ts), so REST calls and Bundle entries are checked alike
const compiled = routes.map(([method, pattern, handler]) => {
  const check = accessCheck(method, pattern);
  return { method, pattern, check, handler: guarded(check, handler), parts: pattern === '' ? [] : pattern.split('/') };
});

export async function routeFhirRequest(ctx: InteractionContext, req: FhirRequest): Promise<FhirResponse> {
  const { handler, params } = resolveRoute(req.method, req.path);
  return handler(ctx, req, params);
}

/**
 * Checks, without running it, that the principal may make the request: a transaction checks every
 * entry before it writes or searches anything.
 */
export function authorizeFhirRequest(ctx: InteractionContext, req: FhirRequest): void {
  const { check, params } = resolveRoute(req.method, req.path);
  check(ctx.principal, req, params);
}

/** The handler for a method and path: 404 when no interaction lives there, 405 for a wrong method. */
export function resolveRoute(requestMethod: Method, path: string): { handler: Handler; check: AccessCheck; params: Record<string, string> } {
  const segments = path === '' ? [] : path.split('/').map(decodeSegment);
  const method = requestMethod === 'HEAD' ? 'GET' : requestMethod;
  const allowed: string[] = [];
  for (const route of compiled) {
    const params = match(route.parts, segments);
    if (!params) continue;
    if (route.method === method) return { handler: route.handler, check: route.check, params };
    allowed.push(route.method);
  }
  if (allowed.length) {
    throw new FhirError(FhirErrorCode.METHOD_NOT_ALLOWED, `${requestMethod} is not allowed on /${path}; allowed: ${[...new Set(allowed)].join(', ')}`);
  }
  throw new FhirError(FhirErrorCode.NOT_FOUND, `No FHIR interaction at /${path}`);
}

/**
 * A path segment percent-decoded (RFC 3986 §2.1); malformed encoding such as `%ZZ` is the client's
 * error, and so is a NUL (`%00`), which no id or version holds and PostgreSQL refuses in text.
 */
function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new FhirError(FhirErrorCode.INVALID, `The path segment '${segment}' is not validly percent-encoded`);
  }
  if (decoded.includes('\u0000')) throw new FhirError(FhirErrorCode.INVALID, `The path segment '${segment}' holds the character U+0000`);
  return decoded;
}

function match(parts: string[], segments: string[]): Record<string, string> | undefined {
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.startsWith(':')) {
      // literal segments (_history, _search, $operations, metadata) are never ids or types
      if (/^[_$]/.test(segments[i]) || segments[i] === '' || (part === ':type' && segments[i] === 'metadata')) return undefined;
      params[part.slice(1)] = segments[i];
    } else if (part !== segments[i]) return undefined;
  }
  return params;
}

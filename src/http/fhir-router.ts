import { FhirError, FhirErrorCode } from '../errors.js';
import type { FhirRequest, FhirResponse } from './fhir-request.js';
import { processBundle } from './interactions/batch.js';
import { capabilities } from './interactions/capabilities.js';
import { applyPlanDefinition } from './interactions/plan-definition-apply.js';
import { readReferral, searchMessageDefinition } from './interactions/message-definition.js';
import { processMessage, processMessageOtherMethod } from './interactions/process-message.js';
import type { Handler, InteractionContext } from './interactions/context.js';
import { instanceHistory, systemHistory, typeHistory } from './interactions/history.js';
import { readResource, vreadResource } from './interactions/read.js';
import { searchType } from './interactions/search.js';
import { validateOperation } from './interactions/validate.js';
import { conditionalDelete, conditionalPatch, conditionalUpdate, createResource, deleteResource, patchResource, updateResource } from './interactions/write.js';

type Method = FhirRequest['method'];

/**
 * The FHIR RESTful API (http://hl7.org/fhir/R4/http.html): one line per interaction. REST calls
 * and the entries of batch and transaction Bundles are both routed here.
 */
const routes: [Method, string, Handler][] = [
  ['GET', 'metadata', capabilities],
  ['POST', '', processBundle],
  ['GET', '_history', systemHistory],
  ['POST', '$process-message', processMessage],
  ['GET', '$process-message', processMessageOtherMethod],
  ['PUT', '$process-message', processMessageOtherMethod],
  ['PATCH', '$process-message', processMessageOtherMethod],
  ['DELETE', '$process-message', processMessageOtherMethod],
  ['GET', 'MessageDefinition', searchMessageDefinition],
  ['GET', 'ServiceRequest/:id', readReferral],
  ['POST', 'PlanDefinition/:id/$apply', applyPlanDefinition],
  ['GET', 'PlanDefinition/:id/$apply', applyPlanDefinition],
  ['POST', ':type/$validate', validateOperation],
  ['POST', ':type/:id/$validate', validateOperation],
  ['GET', ':type', searchType],
  ['POST', ':type/_search', searchType],
  ['POST', ':type', createResource],
  ['PUT', ':type', conditionalUpdate],
  ['PATCH', ':type', conditionalPatch],
  ['DELETE', ':type', conditionalDelete],
  ['GET', ':type/_history', typeHistory],
  ['GET', ':type/:id', readResource],
  ['PUT', ':type/:id', updateResource],
  ['PATCH', ':type/:id', patchResource],
  ['DELETE', ':type/:id', deleteResource],
  ['GET', ':type/:id/_history', instanceHistory],
  ['GET', ':type/:id/_history/:vid', vreadResource],
];

const compiled = routes.map(([method, pattern, handler]) => ({ method, pattern, handler, parts: pattern === '' ? [] : pattern.split('/') }));

export async function routeFhirRequest(ctx: InteractionContext, req: FhirRequest): Promise<FhirResponse> {
  const { handler, params } = resolveRoute(req.method, req.path);
  return handler(ctx, req, params);
}

/** The handler for a method and path: 404 when no interaction lives there, 405 for a wrong method. */
export function resolveRoute(requestMethod: Method, path: string): { handler: Handler; params: Record<string, string> } {
  const segments = path === '' ? [] : path.split('/').map(decodeURIComponent);
  const method = requestMethod === 'HEAD' ? 'GET' : requestMethod;
  const allowed: string[] = [];
  for (const route of compiled) {
    const params = match(route.parts, segments);
    if (!params) continue;
    if (route.method === method) return { handler: route.handler, params };
    allowed.push(route.method);
  }
  if (allowed.length) {
    throw new FhirError(FhirErrorCode.METHOD_NOT_ALLOWED, `${requestMethod} is not allowed on /${path}; allowed: ${[...new Set(allowed)].join(', ')}`);
  }
  throw new FhirError(FhirErrorCode.NOT_FOUND, `No FHIR interaction at /${path}`);
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

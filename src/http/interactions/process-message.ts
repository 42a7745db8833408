import { refuse } from '../../messaging/refusals.js';
import type { MessageProcessor } from '../../messaging/index.js';
import type { FhirRequest } from '../fhir-request.js';
import type { Handler, InteractionContext } from './context.js';

/** The messaging component the app was built with (see createApp). */
export function messagingFor(ctx: InteractionContext): MessageProcessor {
  if (!ctx.messaging) throw new Error('FHIR messaging is not configured for this app');
  return ctx.messaging;
}

export function messageHeaders(req: FhirRequest) {
  const h = req.headers;
  return {
    requestId: h.requestId,
    correlationId: h.correlationId,
    targetIdentifier: h.targetIdentifier,
    requestingSoftware: h.requestingSoftware,
    endUserOrganisation: h.endUserOrganisation,
    requestingPractitioner: h.requestingPractitioner,
    useContext: h.useContext,
  };
}

/** POST [base]/$process-message (http://hl7.org/fhir/R4/messageheader-operation-process-message.html; BaRS API). */
export const processMessage: Handler = async (ctx, req) => {
  const asyncParams = req.query.filter(([k]) => k === 'async').map(([, v]) => v);
  if (asyncParams.some((v) => v !== 'true' && v !== 'false')) {
    throw refuse('malformed', { expression: 'async', message: `async must be true or false, not '${asyncParams.join(',')}'` });
  }
  // the audit names the authenticated principal (ctx.origin.requestor, security/principal.ts); the BaRS headers are a claim beside it
  const result = await messagingFor(ctx).process({ body: req.body, headers: messageHeaders(req), async: asyncParams.includes('true'), baseUrl: ctx.baseUrl, requestor: ctx.origin.requestor });
  // the message left its AuditEvent, processed or rejected (messaging/processor.ts): the request adds none
  if (ctx.origin.audit) ctx.origin.audit.recorded++;
  return { status: result.status, body: result.body, headers: result.headers };
};

/** Any other method on $process-message: 405 with the BaRS code. */
export const processMessageOtherMethod: Handler = async (_ctx, req) => {
  throw refuse('wrongMethod', { expression: 'http.method', message: `${req.method} is not allowed on $process-message; use POST` });
};

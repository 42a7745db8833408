import { systemClock } from '../../clock.js';
import { FhirErrorCode } from '../../errors.js';
import { barsError } from '../../messaging/bars.js';
import { createMessaging, type MessageProcessor } from '../../messaging/index.js';
import type { Database } from '../../store/database.js';
import type { FhirRequest } from '../fhir-request.js';
import type { Handler, InteractionContext } from './context.js';

/**
 * The messaging component a handler uses: `ctx.messaging` when the app provides one, else one per
 * database, configured from the environment (STEPWISE_BARS_SERVICES).
 */
export type MessagingContext = InteractionContext & { messaging?: MessageProcessor };
const perDatabase = new WeakMap<Database, MessageProcessor>();

export function messagingFor(ctx: MessagingContext): MessageProcessor {
  if (ctx.messaging) return ctx.messaging;
  const db = ctx.store.database;
  let m = perDatabase.get(db);
  if (!m) perDatabase.set(db, (m = createMessaging(db, systemClock)));
  return m;
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
    throw barsError(FhirErrorCode.INVALID, { code: 'value', expression: 'async', message: `async must be true or false, not '${asyncParams.join(',')}'` });
  }
  const result = await messagingFor(ctx).process({ body: req.body, headers: messageHeaders(req), async: asyncParams.includes('true'), baseUrl: ctx.baseUrl });
  return { status: result.status, body: result.body, headers: result.headers };
};

/** Any other method on $process-message: 405 with the BaRS code. */
export const processMessageOtherMethod: Handler = async (_ctx, req) => {
  throw barsError(FhirErrorCode.METHOD_NOT_ALLOWED, { code: 'not-supported', expression: 'http.method', message: `${req.method} is not allowed on $process-message; use POST` });
};

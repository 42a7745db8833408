/** The BaRS receiver's read endpoints: GET MessageDefinition?context=… and GET ServiceRequest/[id]. */
import type { Bundle } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { barsError, withBarsCodes } from '../../messaging/bars.js';
import { parseBarsHeaders } from '../../messaging/headers.js';
import { searchMessageDefinitions } from '../../messaging/index.js';
import { checkId, type Handler } from './context.js';
import { messageHeaders, messagingFor } from './process-message.js';
import { readResource } from './read.js';

function echo(req: Parameters<Handler>[1]): Record<string, string> {
  const out: Record<string, string> = {};
  if (req.headers.requestId) out['X-Request-ID'] = req.headers.requestId;
  if (req.headers.correlationId) out['X-Correlation-ID'] = req.headers.correlationId;
  return out;
}

/** Headers a BaRS client sends are checked when present, so a malformed one is a 400 naming it. */
function checkPresentHeaders(req: Parameters<Handler>[1]): void {
  const { issues } = parseBarsHeaders(messageHeaders(req), []);
  if (issues.length) throw barsError(FhirErrorCode.INVALID, issues);
}

/** GET [base]/MessageDefinition?context=… : what the hosted service accepts (BaRS API, getMessageDefinition). */
export const searchMessageDefinition: Handler = async (ctx, req) => {
  checkPresentHeaders(req);
  const contexts = req.query.filter(([k]) => k === 'context').map(([, v]) => v);
  const found = searchMessageDefinitions(messagingFor(ctx).catalogue, contexts);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: found.length,
    link: [{ relation: 'self', url: `${ctx.baseUrl}/MessageDefinition?${new URLSearchParams(req.query.filter(([k]) => k === 'context')).toString()}` }],
    entry: found.map((md) => ({ fullUrl: `${ctx.baseUrl}/MessageDefinition/${md.id}`, resource: md, search: { mode: 'match' } })),
  };
  return { status: 200, body: bundle, headers: echo(req) };
};

/**
 * GET [base]/ServiceRequest/[id]: the generic read, with BaRS error codes on its errors. Its headers
 * are not held to the BaRS rules: REST clients outside BaRS read referrals here too.
 */
export const readReferral: Handler = async (ctx, req, { id }) => {
  try {
    checkId(id);
    const res = await readResource(ctx, req, { type: 'ServiceRequest', id });
    return { ...res, headers: { ...res.headers, ...echo(req) } };
  } catch (err) {
    throw err instanceof FhirError ? withBarsCodes(err) : err;
  }
};

/** The BaRS receiver's read endpoints: GET MessageDefinition?context=…, GET ServiceRequest/[id] and GET ServiceRequest?patient:identifier=…. */
import type { Bundle } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { isValidNhsNumber } from '../../fhir/nhs-number.js';
import { parseToken } from '../../fhir/search/parse.js';
import { barsError, IDENTIFIER, withBarsCodes } from '../../messaging/bars.js';
import { refuse } from '../../messaging/refusals.js';
import { parseBarsHeaders } from '../../messaging/headers.js';
import { searchMessageDefinitions } from '../../messaging/index.js';
import { checkId, type Handler } from './context.js';
import { messageHeaders, messagingFor } from './process-message.js';
import { readResource } from './read.js';
import { searchType } from './search.js';

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
 * A request is a BaRS request when it names its target service (NHSD-Target-Identifier). BaRS
 * holds such requests to its own rules (booking-and-referral.yaml): ServiceRequest ids are UUIDs,
 * and a search names the patient by NHS number. REST clients outside BaRS keep plain FHIR.
 */
function isBarsRequest(req: Parameters<Handler>[1]): boolean {
  return req.headers.targetIdentifier !== undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * GET [base]/ServiceRequest/[id]: the generic read, with BaRS error codes on its errors. A BaRS
 * request's id must be a UUID (RegistryId_Param, format uuid): anything else is a 400, not a 404.
 */
export const readReferral: Handler = async (ctx, req, { id }) => {
  try {
    if (isBarsRequest(req)) {
      checkPresentHeaders(req);
      if (!UUID.test(id)) throw refuse('malformed', { expression: 'ServiceRequest.id', message: `ServiceRequest id '${id}' is not a UUID; BaRS referral ids are UUIDs` });
    }
    checkId(id);
    const res = await readResource(ctx, req, { type: 'ServiceRequest', id });
    return { ...res, headers: { ...res.headers, ...echo(req) } };
  } catch (err) {
    throw err instanceof FhirError ? withBarsCodes(err) : err;
  }
};

/**
 * GET [base]/ServiceRequest?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|… (BaRS
 * getReferralByPatient): a BaRS search must name the patient by a valid NHS number. Other
 * searches are the generic search.
 */
export const searchReferrals: Handler = async (ctx, req, params) => {
  if (!isBarsRequest(req)) return searchType(ctx, req, { ...params, type: 'ServiceRequest' });
  checkPresentHeaders(req);
  const patient = req.query.filter(([k]) => k === 'patient:identifier').map(([, v]) => ({ raw: v, token: parseToken(v) }));
  if (patient.every(({ token }) => !token.code)) {
    throw refuse('missing', { expression: 'patient:identifier', message: `A BaRS referral search needs patient:identifier=${IDENTIFIER.nhsNumber}|<NHS number>` });
  }
  for (const { raw, token } of patient) {
    // a value without a system is taken as an NHS number (BaRS: "a value should be accepted")
    if ((token.system !== undefined && token.system !== IDENTIFIER.nhsNumber) || !isValidNhsNumber(token.code ?? '')) {
      throw refuse('malformed', { expression: 'patient:identifier', message: `patient:identifier must be ${IDENTIFIER.nhsNumber}|<a valid NHS number>, not '${raw}'` });
    }
  }
  const res = await searchType(ctx, req, { ...params, type: 'ServiceRequest' });
  return { ...res, headers: { ...res.headers, ...echo(req) } };
};

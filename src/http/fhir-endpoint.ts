import type { Resource } from '@medplum/fhirtypes';
import type { Context } from 'hono';
import { FhirError, FhirErrorCode } from '../errors.js';
import { HEADER_NAMES, type HeaderKey, type RawMessageHeaders } from '../messaging/headers.js';
import type { InputLimits } from '../fhir/input-limits.js';
import { formatFhirJson, formatFhirXml } from '../fhir/xml/index.js';
import { bodyKind, mediaType, parseJsonBody, parseXmlBody } from './body.js';
import { bodyText } from './body-text.js';
import type { FhirRequest, FhirResponse } from './fhir-request.js';
import { resolveRoute } from './fhir-router.js';
import type { InteractionContext } from './interactions/context.js';
import { LOAD_PACKAGE_PATH, PACKAGE_MEDIA_TYPES } from './interactions/load-package.js';
import { INGEST_PATH } from './interactions/ingest.js';
import type { RequestIdVariables } from './middleware/request-id.js';
import type { RequestAudit } from '../audit/middleware.js';
import type { Principal, PrincipalVariables } from '../security/principal.js';
import { CONTENT_TYPE, negotiateFormat, type Format } from './negotiate.js';
import { fhirBaseOf } from './base-url.js';

const FHIR_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

export interface EndpointOptions {
  /** Mount point of the FHIR API. */
  prefix: string;
  baseUrl?: string;
  maxBodyBytes: number;
  /** Bounds on a parsed body's arrays, nesting and strings, JSON and XML alike. */
  inputLimits: InputLimits;
}

/** Turns an HTTP request on /fhir/… into a FhirRequest, routes it, and writes the FhirResponse. */
export function fhirEndpoint(makeContext: (baseUrl: string, requestId: string | undefined, principal: Principal, audit?: RequestAudit) => InteractionContext, opts: EndpointOptions) {
  return async (c: Context<{ Variables: RequestIdVariables & PrincipalVariables & { audit?: RequestAudit } }>): Promise<Response> => {
    const url = new URL(c.req.url);
    const baseUrl = fhirBaseOf(c, opts);
    const format = negotiateFormat(url.searchParams.get('_format') ?? undefined, c.req.header('Accept'));
    const method = c.req.method.toUpperCase();
    if (!FHIR_METHODS.has(method)) throw new FhirError(FhirErrorCode.METHOD_NOT_ALLOWED, `${method} is not a FHIR interaction`);
    const path = url.pathname.slice(opts.prefix.length).replace(/^\/+|\/+$/g, '');
    const req: FhirRequest = {
      method: method as FhirRequest['method'],
      path,
      query: [...url.searchParams],
      headers: {
        ifMatch: c.req.header('If-Match'),
        ifNoneMatch: c.req.header('If-None-Match'),
        ifNoneExist: c.req.header('If-None-Exist'),
        ifModifiedSince: c.req.header('If-Modified-Since'),
        prefer: c.req.header('Prefer'),
        // messaging and BaRS headers, read by $process-message and the BaRS endpoints
        ...messageHeaders(c),
      },
    };
    const { handler, params } = resolveRoute(req.method, path);
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') await readBody(c, req, opts.maxBodyBytes, opts.inputLimits);
    const audit = c.get('audit');
    const res = await handler(makeContext(baseUrl, c.get('requestId'), c.get('principal'), audit), req, params);
    // the audit names the patient of what was answered (audit/middleware.ts)
    if (audit) audit.body = res.body;
    return send(c, res, format, url.searchParams.get('_pretty') === 'true', method === 'HEAD');
  };
}

function messageHeaders(c: Context): RawMessageHeaders {
  return Object.fromEntries((Object.entries(HEADER_NAMES) as [HeaderKey, string][]).map(([key, name]) => [key, c.req.header(name)]));
}

/**
 * Reads and parses the body. The bodyLimit middleware has bounded it as it streamed in; the check
 * here is a backstop should the endpoint ever be mounted without it.
 */
async function readBody(c: Context, req: FhirRequest, maxBytes: number, limits: InputLimits): Promise<void> {
  const contentType = c.req.header('Content-Type');
  const buf = await c.req.arrayBuffer();
  if (buf.byteLength > maxBytes) throw new FhirError(FhirErrorCode.TOO_LARGE, `The request body is larger than the limit of ${maxBytes} bytes`);
  // no body at all (e.g. $validate with mode=delete): the handler says whether it needed one
  if (buf.byteLength === 0 && !contentType) return;
  // $load-package takes a FHIR NPM package as it is: bytes, read by the handler (issue 15)
  if (req.path === LOAD_PACKAGE_PATH && PACKAGE_MEDIA_TYPES.has(mediaType(contentType))) {
    req.body = new Uint8Array(buf);
    return;
  }
  // $ingest takes a partner payload as it is (CSV, CDA XML, MHSDS JSON): text, read by its format (issue 14)
  if (req.path === INGEST_PATH) {
    req.body = bodyText(buf, contentType);
    return;
  }
  const kind = bodyKind(req.method, contentType, req.path);
  const text = bodyText(buf, contentType);
  switch (kind) {
    case 'form':
      // POST [type]/_search: form parameters join those of the URL (http://hl7.org/fhir/R4/http.html#search)
      req.query = [...req.query, ...new URLSearchParams(text)];
      return;
    case 'xml':
      req.body = parseXmlBody(text, maxBytes, limits);
      return;
    default:
      req.body = parseJsonBody(text, limits);
  }
}

/**
 * Serializes the server's own output in the negotiated format. The formatters throw FhirError
 * INVALID, which is right for what a client sent but not here: a resource the server cannot write
 * is the server's fault, so it becomes an unknown error, which app.onError logs and answers 500.
 */
export function serialize(resource: Resource, format: Format, pretty = false): string {
  try {
    return format === 'xml' ? formatFhirXml(resource, { pretty }) : formatFhirJson(resource, { pretty });
  } catch (err) {
    const at = err instanceof FhirError ? err.issues.flatMap((i) => i.expression ?? []).join(', ') : '';
    throw new Error(`Could not write the server's own ${resource.resourceType} as ${format}${at ? ` (at ${at})` : ''}`, { cause: err });
  }
}

export function send(c: Context, res: FhirResponse, format: Format, pretty = false, headOnly = false): Response {
  for (const [k, v] of Object.entries(res.headers)) c.header(k, v);
  if (res.body === undefined || res.status === 304) return c.body(null, res.status as 200);
  c.header('Content-Type', CONTENT_TYPE[format]);
  if (headOnly) return c.body(null, res.status as 200);
  return c.body(serialize(res.body, format, pretty), res.status as 200);
}

import type { Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest } from '../errors.js';
import { refuseDuplicateKeys } from '../fhir/duplicate-keys.js';
import { parseJsonKeepingDecimals } from '../fhir/fhir-json.js';
import { checkInputLimits, nestingTooDeep, type InputLimits } from '../fhir/input-limits.js';
import { parseFhirXml } from '../fhir/xml/index.js';
import { formatOfMediaType } from './negotiate.js';

const PATCH_TYPES = new Set(['application/json-patch+json']);
const FORM = 'application/x-www-form-urlencoded';

export type BodyKind = 'json' | 'xml' | 'patch' | 'form';

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** Which body the request carries, from its Content-Type; 415 for anything else. */
export function bodyKind(method: string, contentType: string | undefined, path: string): BodyKind {
  const type = mediaType(contentType);
  if (method === 'POST' && path.endsWith('/_search')) {
    if (type === FORM || type === '') return 'form';
    throw unsupported(type, FORM);
  }
  if (method === 'PATCH') {
    if (PATCH_TYPES.has(type)) return 'patch';
    throw unsupported(type, 'application/json-patch+json');
  }
  const format = formatOfMediaType(type);
  if (format) return format;
  throw unsupported(type, 'application/fhir+json or application/fhir+xml');
}

function unsupported(type: string, expected: string): FhirError {
  return new FhirError(FhirErrorCode.UNSUPPORTED_MEDIA_TYPE, `Content-Type '${type || '(none)'}' is not supported here; send ${expected}`);
}

/**
 * Parses a JSON body (a resource or a JSON Patch) that the body limit has already bounded in bytes,
 * then checks its shape against `limits` and refuses duplicate member names before anything else
 * reads it. Malformed JSON is 400; the parser's own message is not passed on, as it quotes the
 * input and names the parser.
 */
export function parseJsonBody(text: string, limits: InputLimits): unknown {
  if (text.trim() === '') throw badRequest('The request body is empty');
  let value: unknown;
  try {
    value = parseJsonKeepingDecimals(text);
  } catch (err) {
    throw badRequest(`The body is not valid JSON${whereJsonFailed(err)}`);
  }
  const members = checkInputLimits(value, limits);
  refuseDuplicateKeys(text, value, members);
  return value;
}

/** " (at position N)" when the JSON parser said where, else nothing. */
function whereJsonFailed(err: unknown): string {
  const position = /at position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
  return position === undefined ? '' : ` (at position ${position})`;
}

/**
 * Parses a FHIR XML body. The parser refuses DOCTYPE, entities, processing instructions and
 * excessive depth or size, and fetches nothing (see fhir/xml/input-guard.ts); then the shape is
 * checked against the same `limits` as JSON.
 */
export function parseXmlBody(text: string, maxBytes: number, limits: InputLimits): Resource {
  if (text.trim() === '') throw badRequest('The request body is empty');
  const tooDeep = (path?: string) => nestingTooDeep(limits, path);
  const resource = parseFhirXml(text, { maxBytes, maxDepth: xmlDepthFor(limits.maxDepth), tooDeep });
  checkInputLimits(resource, limits);
  return resource;
}

/**
 * XML nests deeper than the JSON form: a resource inside a resource has its own element
 * (`<resource><Patient>`), one more per element name at most. Twice the limit, plus the root,
 * bounds the parser (whose reader recurses) while checkInputLimits gives the exact answer and path.
 */
const xmlDepthFor = (maxDepth: number): number => 2 * maxDepth + 1;

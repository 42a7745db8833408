import type { Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest } from '../errors.js';
import { parseJsonKeepingDecimals } from '../fhir/fhir-json.js';
import { parseFhirXml } from '../fhir/xml/index.js';
import { formatOfMediaType } from './negotiate.js';

const PATCH_TYPES = new Set(['application/json-patch+json']);
const FORM = 'application/x-www-form-urlencoded';

export const MAX_JSON_DEPTH = 64;

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

/** Parses a JSON body (a resource or a JSON Patch); malformed JSON and excessive nesting are 400. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badRequest('The request body is empty');
  let value: unknown;
  try {
    value = parseJsonKeepingDecimals(text);
  } catch (err) {
    throw badRequest(`The body is not valid JSON: ${(err as Error).message}`);
  }
  checkDepth(value, 0);
  return value;
}

/**
 * Parses a FHIR XML body. The parser refuses DOCTYPE, entities, processing instructions and
 * excessive depth or size, and fetches nothing (see fhir/xml/input-guard.ts).
 */
export function parseXmlBody(text: string, maxBytes: number): Resource {
  if (text.trim() === '') throw badRequest('The request body is empty');
  return parseFhirXml(text, { maxBytes });
}

function checkDepth(v: unknown, depth: number): void {
  if (depth > MAX_JSON_DEPTH) throw badRequest(`The body nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (v && typeof v === 'object') for (const child of Object.values(v)) checkDepth(child, depth + 1);
}

import type { Resource } from '@medplum/fhirtypes';
import { recordedDecimalText, rememberDecimalText } from './decimal.js';
import { checkSize, DEFAULT_MAX_BYTES, invalid } from './input-guard.js';

/**
 * The JSON side of the precision-preserving path (see decimal.ts). JSON.parse turns 1.50 into 1.5;
 * here the reviver's source text (TC39 "JSON.parse source text access", in Node 22+) is recorded
 * for every number whose text is not its shortest form, and JSON.rawJSON writes it back.
 */

interface ReviverContext {
  source?: string;
}
type SourceReviver = (this: unknown, key: string, value: unknown, context?: ReviverContext) => unknown;
const parseWithSource = JSON.parse as (text: string, reviver: SourceReviver) => unknown;
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

function keepNumberText(this: unknown, key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value === 'number' && context?.source !== undefined) {
    rememberDecimalText(this as object, key, value, context.source);
  }
  return value;
}

export interface ParseJsonOptions {
  /** Largest input accepted, in UTF-8 bytes. Default 10 MB. */
  maxBytes?: number;
}

/** Parses FHIR JSON, keeping the written text of numbers such as 1.50. Throws FhirError INVALID. */
export function parseFhirJson(text: string, opts: ParseJsonOptions = {}): Resource {
  checkSize(text, opts.maxBytes ?? DEFAULT_MAX_BYTES, 'JSON document');
  let value: unknown;
  try {
    value = parseWithSource(text, keepNumberText);
  } catch (err) {
    // The reviver makes JSON.parse recursive: a nesting bomb overflows the stack.
    if (err instanceof RangeError) throw invalid('JSON nesting is too deep');
    throw invalid(`JSON is not well-formed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('A FHIR resource must be a JSON object');
  if (typeof (value as { resourceType?: unknown }).resourceType !== 'string') throw invalid('The JSON object has no resourceType');
  return value as Resource;
}

/** Serializes a resource as JSON, writing decimals with their recorded precision. */
export function formatFhirJson(resource: Resource, opts: { pretty?: boolean } = {}): string {
  return JSON.stringify(
    resource,
    function (this: object, key: string, value: unknown) {
      if (typeof value === 'number') {
        const text = recordedDecimalText(this, key, value);
        if (text !== undefined) return rawJSON(text);
      }
      return value;
    },
    opts.pretty ? 2 : undefined,
  );
}

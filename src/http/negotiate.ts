import { FhirError, FhirErrorCode } from '../errors.js';

export type Format = 'json' | 'xml';

/** http://hl7.org/fhir/R4/http.html#mime-type: the FHIR types, their generic forms and _format short names. */
const FORMAT_BY_TYPE: Record<string, Format> = {
  json: 'json',
  'application/json': 'json',
  'application/fhir+json': 'json',
  'application/json+fhir': 'json',
  xml: 'xml',
  'text/xml': 'xml',
  'application/xml': 'xml',
  'application/fhir+xml': 'xml',
  'application/xml+fhir': 'xml',
};

export const CONTENT_TYPE: Record<Format, string> = {
  json: 'application/fhir+json; charset=utf-8',
  xml: 'application/fhir+xml; charset=utf-8',
};

/**
 * The response format: _format wins over Accept; Accept is read with its q-values; any type or no
 * Accept means JSON. 406 when the client accepts nothing we produce.
 */
export function negotiateFormat(formatParam: string | undefined, accept: string | undefined): Format {
  if (formatParam) {
    // an unencoded '+' in a query string arrives as a space: application/fhir xml
    const f = FORMAT_BY_TYPE[formatParam.trim().toLowerCase().replace(/ /g, '+')];
    if (!f) throw new FhirError(FhirErrorCode.NOT_ACCEPTABLE, { message: `_format '${formatParam}' is not supported; use json or xml`, expression: '_format' });
    return f;
  }
  if (!accept || accept.trim() === '') return 'json';
  const ranges = accept
    .split(',')
    .map((part, i) => {
      const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { type, q: q ? Number(q.slice(2)) : 1, i };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    if (FORMAT_BY_TYPE[r.type]) return FORMAT_BY_TYPE[r.type];
    if (r.type === '*/*' || r.type === 'application/*') return 'json';
    if (r.type === 'text/*') return 'xml';
  }
  throw new FhirError(FhirErrorCode.NOT_ACCEPTABLE, `None of the accepted types (${accept}) can be produced; this server answers application/fhir+json or application/fhir+xml`);
}

/** The format for an error response: the one asked for when it can be told, else JSON. */
export function errorFormat(formatParam: string | undefined, accept: string | undefined): Format {
  try {
    return negotiateFormat(formatParam, accept);
  } catch {
    return 'json';
  }
}

export function formatOfMediaType(type: string): Format | undefined {
  return type.includes('/') ? FORMAT_BY_TYPE[type] : undefined;
}

import { FhirError, FhirErrorCode } from '../errors.js';

export type Format = 'json';

const JSON_ACCEPT = ['application/fhir+json', 'application/json', 'application/json+fhir', 'application/*', '*/*'];
const FORMAT_PARAM: Record<string, Format> = { json: 'json', 'application/json': 'json', 'application/fhir+json': 'json' };

/**
 * The response format from _format (which wins) or Accept (http://hl7.org/fhir/R4/http.html#mime-type).
 * 406 when the client accepts nothing we produce.
 */
export function negotiateFormat(formatParam: string | undefined, accept: string | undefined): Format {
  if (formatParam) {
    const f = FORMAT_PARAM[formatParam.toLowerCase()];
    if (!f) throw new FhirError(FhirErrorCode.NOT_ACCEPTABLE, { message: `_format '${formatParam}' is not supported; use json`, expression: '_format' });
    return f;
  }
  if (!accept) return 'json';
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase());
  if (types.some((t) => JSON_ACCEPT.includes(t))) return 'json';
  throw new FhirError(FhirErrorCode.NOT_ACCEPTABLE, `None of the accepted types (${accept}) can be produced; this server answers application/fhir+json`);
}

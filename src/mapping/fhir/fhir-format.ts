import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { refuseDuplicateKeys } from '../../fhir/duplicate-keys.js';
import { parseJsonKeepingDecimals } from '../../fhir/fhir-json.js';
import { checkInputLimits, DEFAULT_INPUT_LIMITS } from '../../fhir/input-limits.js';
import type { PartnerFormat, Payload } from '../format.js';

/**
 * The pivot format: FHIR R4 JSON. Reading gives the Bundle as sent (a single resource becomes a
 * one-entry `collection`); writing gives it back as JSON text.
 */
export const FHIR_FORMAT: PartnerFormat = {
  name: 'fhir',
  mediaType: 'application/fhir+json',
  async read(payload: Payload) {
    if (typeof payload !== 'string') throw new FhirError(FhirErrorCode.INVALID, 'A FHIR payload is one JSON text, not a set of tables');
    let parsed: unknown;
    try {
      parsed = parseJsonKeepingDecimals(payload);
    } catch (err) {
      throw new FhirError(FhirErrorCode.INVALID, `The FHIR payload is not JSON: ${(err as Error).message}`);
    }
    // as every FHIR JSON body (http/body.ts): bounded, and no member named twice
    refuseDuplicateKeys(payload, parsed, checkInputLimits(parsed, DEFAULT_INPUT_LIMITS));
    const resource = parsed as Resource | undefined;
    if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') {
      throw new FhirError(FhirErrorCode.INVALID, { message: 'The FHIR payload is not a resource (no resourceType)', expression: 'resourceType' });
    }
    const bundle: Bundle = resource.resourceType === 'Bundle' ? (resource as Bundle) : { resourceType: 'Bundle', type: 'collection', entry: [{ resource }] };
    return { result: bundle, issues: [] };
  },
  async write(bundle: Bundle) {
    return { result: JSON.stringify(bundle, null, 2), issues: [] };
  },
};

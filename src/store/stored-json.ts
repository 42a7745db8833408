import type { Resource } from '@medplum/fhirtypes';
import { parseJsonKeepingDecimals } from '../fhir/fhir-json.js';
import { formatFhirJson } from '../fhir/xml/index.js';

export { formatFhirJson };

/** Reads a stored resource; decimals keep the precision they were written with (1.50 stays 1.50). */
export function parseStored(content: string): Resource {
  return parseJsonKeepingDecimals(content) as Resource;
}

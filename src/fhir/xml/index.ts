/**
 * FHIR R4 XML <-> JSON object form, driven by the R4 StructureDefinitions.
 * Decimal precision: see decimal.ts. Untrusted input: see input-guard.ts and well-formed.ts.
 */
export { parseFhirXml, type ParseXmlOptions } from './parse.js';
export { formatFhirXml, type FormatXmlOptions } from './format.js';
export { parseFhirJson, formatFhirJson, type ParseJsonOptions } from './json.js';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, type XmlLimits } from './input-guard.js';

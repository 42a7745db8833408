/** XML namespaces of FHIR (http://hl7.org/fhir/R4/xml.html). */
export const FHIR_NS = 'http://hl7.org/fhir';
/** Narrative XHTML (http://hl7.org/fhir/R4/narrative.html#xhtml). */
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';
/** xsi:schemaLocation may appear on FHIR XML; it carries no data. */
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

import { guardXml, invalid } from './input-guard.js';
import { XHTML_NS } from './namespaces.js';
import { checkWellFormed } from './well-formed.js';

/**
 * Narrative XHTML (http://hl7.org/fhir/R4/narrative.html#xhtml). In XML the `div` element is in
 * the XHTML namespace and sits inside the FHIR element; in JSON it is the same markup as a string,
 * `<div xmlns="http://www.w3.org/1999/xhtml">…</div>` (http://hl7.org/fhir/R4/json.html#xhtml).
 * Both directions keep the markup verbatim, so entity spelling and whitespace survive; line ends
 * follow XML 1.0 §2.11 (a carriage return in the JSON string reads back from XML as a line feed,
 * which is what the same markup means as XML).
 */

/**
 * Builds the JSON string of a narrative div from its start-tag attributes and its raw inner markup
 * (fast-xml-parser keeps `div` as a stop node: the inner markup is not parsed, references are not
 * expanded). The whole document, this markup included, passed checkWellFormed before.
 */
export function divFromXml(attributes: Record<string, string> | undefined, inner: string, path: string): string {
  if (attributes?.xmlns !== XHTML_NS) {
    throw invalid(`Narrative div must be in the XHTML namespace ${XHTML_NS}`, path);
  }
  let start = '<div';
  for (const name in attributes) {
    // Values are raw (references unexpanded); the parser dropped the quote style, so restore `"`.
    start += ` ${name}="${attributes[name].replaceAll('"', '&quot;')}"`;
  }
  return `${start}>${inner}</div>`;
}

/**
 * Checks a JSON narrative div before it is written into XML verbatim: one well-formed `div`
 * element in the XHTML namespace, no DTD or processing instructions, only predefined entities.
 */
export function checkDivForXml(div: string, path: string, maxBytes: number): void {
  if (!div.startsWith('<div')) throw invalid('Narrative div must be a <div> element', path);
  let root;
  try {
    root = checkWellFormed(guardXml(div, maxBytes), Number.MAX_SAFE_INTEGER, () => new Error('unreachable'));
  } catch (err) {
    if (err instanceof Error) throw invalid(`Narrative div: ${err.message}`, path);
    throw err;
  }
  if (root.name !== 'div' || root.attributes.xmlns !== XHTML_NS) {
    throw invalid(`Narrative div must be <div xmlns="${XHTML_NS}">`, path);
  }
}

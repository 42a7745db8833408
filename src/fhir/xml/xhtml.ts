import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { checkReferences, XmlCharError } from './escape.js';
import { guardXml, invalid } from './input-guard.js';
import { XHTML_NS } from './namespaces.js';

/**
 * Narrative XHTML (http://hl7.org/fhir/R4/narrative.html#xhtml). In XML the `div` element is in
 * the XHTML namespace and sits inside the FHIR element; in JSON it is the same markup as a string,
 * `<div xmlns="http://www.w3.org/1999/xhtml">…</div>` (http://hl7.org/fhir/R4/json.html#xhtml).
 * Both directions keep the markup verbatim, so entity spelling and whitespace survive.
 */

/**
 * Builds the JSON string of a narrative div from its start-tag attributes and its raw inner markup
 * (fast-xml-parser keeps `div` as a stop node: the inner markup is not parsed, entities untouched).
 * The whole document was checked for well-formedness before, so only the namespace and the
 * references are checked here.
 */
export function divFromXml(attributes: Record<string, string> | undefined, inner: string, path: string): string {
  if (attributes?.xmlns !== XHTML_NS) {
    throw invalid(`Narrative div must be in the XHTML namespace ${XHTML_NS}`, path);
  }
  let start = '<div';
  for (const name in attributes) {
    // Values are raw (entities unexpanded); the parser dropped the quote style, so restore `"`.
    start += ` ${name}="${attributes[name].replaceAll('"', '&quot;')}"`;
  }
  try {
    checkReferences(inner);
  } catch (err) {
    if (err instanceof XmlCharError) throw invalid(`Narrative div: ${err.message}`, path);
    throw err;
  }
  return `${start}>${inner}</div>`;
}

const divParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  jPath: false,
});

/**
 * Checks a JSON narrative div before it is written into XML verbatim: one well-formed `div`
 * element in the XHTML namespace, no DTD or processing instructions, only predefined entities.
 */
export function checkDivForXml(div: string, path: string, maxBytes: number): void {
  if (!div.startsWith('<div')) throw invalid('Narrative div must be a <div> element', path);
  try {
    guardXml(div, maxBytes);
    checkReferences(div);
  } catch (err) {
    if (err instanceof XmlCharError) throw invalid(`Narrative div: ${err.message}`, path);
    if (err instanceof Error) throw invalid(`Narrative div: ${err.message}`, path);
    throw err;
  }
  const result = XMLValidator.validate(div);
  if (result !== true) throw invalid(`Narrative div is not well-formed XHTML: ${result.err.msg}`, path);
  const nodes = divParser.parse(div) as Record<string, unknown>[];
  let roots = 0;
  for (const node of nodes) {
    if ('#text' in node) {
      if (/\S/.test(node['#text'] as string)) throw invalid('Narrative div has text outside the div element', path);
      continue;
    }
    roots++;
    const attributes = node[':@'] as Record<string, string> | undefined;
    if (!('div' in node) || attributes?.xmlns !== XHTML_NS) {
      throw invalid(`Narrative div must be <div xmlns="${XHTML_NS}">`, path);
    }
  }
  if (roots !== 1) throw invalid('Narrative div must be exactly one div element', path);
}

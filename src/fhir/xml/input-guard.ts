import { XMLValidator } from 'fast-xml-parser';
import { FhirError, FhirErrorCode } from '../../errors.js';

export interface XmlLimits {
  /** Deepest element nesting accepted; the root resource element is depth 1. Default 100. */
  maxDepth?: number;
  /** Largest input accepted, in UTF-8 bytes. Default 10 MB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_DEPTH = 100;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

export const invalid = (message: string, expression?: string): FhirError =>
  new FhirError(FhirErrorCode.INVALID, { message, expression });

/** Refuses input larger than `maxBytes` UTF-8 bytes without encoding it when the answer is plain. */
export function checkSize(text: string, maxBytes: number, what: string): void {
  // A UTF-16 code unit is 1 to 3 UTF-8 bytes, so the length bounds the byte count both ways.
  if (text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes)) {
    throw invalid(`${what} is larger than the limit of ${maxBytes} bytes`);
  }
}

/** XML 1.0 §2.2: characters that may not appear in a document at all. */
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Refuses what FHIR XML must not contain before any parser sees it: a DOCTYPE (so no entity
 * declarations, internal or external, and no billion laughs), any other markup declaration, and
 * processing instructions other than the XML declaration at the very start
 * (http://hl7.org/fhir/R4/xml.html; http://hl7.org/fhir/R4/security.html#xml). Comments and
 * CDATA sections are skipped so that their text cannot be mistaken for markup. Nothing is ever
 * fetched: no parser here resolves entities or external references. Returns the document without a
 * byte order mark.
 */
export function guardXml(xml: string, maxBytes: number): string {
  checkSize(xml, maxBytes, 'XML document');
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  const bad = NOT_XML_CHAR.exec(xml);
  if (bad) {
    throw invalid(`XML document contains U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at offset ${bad.index}, which XML 1.0 does not allow`);
  }
  let nextBang = xml.indexOf('<!');
  let nextPi = xml.indexOf('<?');
  while (nextBang !== -1 || nextPi !== -1) {
    if (nextPi !== -1 && (nextBang === -1 || nextPi < nextBang)) {
      if (nextPi !== 0 || !/^<\?xml[\s?]/.test(xml)) {
        const target = /^<\?([^\s?]*)/.exec(xml.slice(nextPi, nextPi + 64))?.[1] ?? '';
        throw invalid(`Processing instruction <?${target} at offset ${nextPi} is not allowed in FHIR XML (only the XML declaration at the start)`);
      }
      const end = xml.indexOf('?>', nextPi + 2);
      if (end === -1) throw invalid('XML declaration is not closed');
      nextPi = xml.indexOf('<?', end + 2);
      continue;
    }
    let resume: number;
    if (xml.startsWith('<!--', nextBang)) {
      const end = xml.indexOf('-->', nextBang + 4);
      if (end === -1) throw invalid(`Comment at offset ${nextBang} is not closed`);
      resume = end + 3;
    } else if (xml.startsWith('<![CDATA[', nextBang)) {
      const end = xml.indexOf(']]>', nextBang + 9);
      if (end === -1) throw invalid(`CDATA section at offset ${nextBang} is not closed`);
      resume = end + 3;
    } else if (xml.startsWith('<!DOCTYPE', nextBang)) {
      throw invalid('DOCTYPE is not allowed in FHIR XML (no DTDs, so no entity declarations or external entities)');
    } else if (xml.startsWith('<!ENTITY', nextBang)) {
      throw invalid('ENTITY declarations are not allowed in FHIR XML');
    } else {
      throw invalid(`Markup declaration at offset ${nextBang} is not allowed in FHIR XML`);
    }
    nextBang = xml.indexOf('<!', resume);
    if (nextPi !== -1 && nextPi < resume) nextPi = xml.indexOf('<?', resume);
  }
  return xml;
}

/**
 * Well-formedness (XML 1.0 §2.1): fast-xml-parser's tree builder does not match end tags to start
 * tags, so its validator runs first. It works with an explicit stack: deep input cannot overflow.
 */
export function checkWellFormed(xml: string): void {
  const result = XMLValidator.validate(xml);
  if (result !== true) {
    const { msg, line, col } = result.err;
    throw invalid(`XML is not well-formed: ${msg} (line ${line}, column ${col})`);
  }
}

import { FhirError, FhirErrorCode } from '../../errors.js';
import { NOT_XML_CHAR } from './escape.js';

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

/**
 * First gate for untrusted XML, before any parser: the size limit and characters XML 1.0 forbids.
 * Markup rules (no DOCTYPE, no processing instructions) are enforced by well-formed.ts. Returns the
 * document without a byte order mark.
 */
export function guardXml(xml: string, maxBytes: number): string {
  checkSize(xml, maxBytes, 'XML document');
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  const bad = NOT_XML_CHAR.exec(xml);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw invalid(`XML document contains U+${code} at offset ${bad.index}, which XML 1.0 does not allow`);
  }
  return xml;
}

import { referenceEnd, XmlCharError } from './escape.js';
import { invalid } from './input-guard.js';

/**
 * One pass over a document that checks what fast-xml-parser's tree builder does not (it pops any
 * end tag without comparing names, accepts unclosed tags, and skips malformed attributes):
 * well-formedness per XML 1.0 §2-§3 for the subset FHIR allows, and FHIR's own refusals
 * (http://hl7.org/fhir/R4/xml.html, http://hl7.org/fhir/R4/security.html#xml): no DOCTYPE (so no
 * entity declarations, internal or external), no processing instructions but the XML declaration.
 * It keeps an explicit stack, so deep input cannot overflow, and stops at `maxDepth`.
 * Forbidden characters and the size are checked by guardXml before.
 */

/** XML 1.0 §2.3 Name, for the Basic Multilingual Plane. */
const NAME_START = ':A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME = new RegExp(`[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*`, 'y');

export interface StartTag {
  name: string;
  /** Attribute values as written: references not expanded. */
  attributes: Record<string, string>;
}

/**
 * Names that mean something to JavaScript objects: no FHIR or XHTML element or attribute has one,
 * and the tree builder throws on them, so they are refused here, as input, with a position.
 */
const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const isPrototypeName = (name: string): boolean => PROTOTYPE_NAMES.has(name.slice(name.indexOf(':') + 1));

/**
 * A FHIR element has a handful of attributes (value, id, url, namespace declarations), XHTML a few
 * more. The bound keeps the repeat check linear: 30,000 attributes on one element took 21 s.
 */
export const MAX_ATTRIBUTES = 64;

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 13;

class Checker {
  private readonly stack: string[] = [];
  private root: StartTag | undefined;
  private nextAmp = -1;
  private nextLt = -1;

  constructor(
    private readonly xml: string,
    private readonly maxDepth: number,
    private readonly tooDeep: () => Error,
  ) {}

  run(): StartTag {
    const xml = this.xml;
    let pos = 0;
    if (/^<\?xml[ \t\r\n?]/.test(xml)) {
      const end = xml.indexOf('?>', 5);
      if (end === -1) throw this.error('The XML declaration is not closed', 0);
      pos = end + 2;
    }
    while (pos < xml.length) {
      const lt = xml.indexOf('<', pos);
      const textEnd = lt === -1 ? xml.length : lt;
      if (textEnd > pos) this.text(pos, textEnd);
      if (lt === -1) break;
      const next = xml.charCodeAt(lt + 1);
      if (next === 47 /* / */) pos = this.endTag(lt);
      else if (next === 33 /* ! */) pos = this.declaration(lt);
      else if (next === 63 /* ? */) {
        const target = /^<\?([^\s?]*)/.exec(xml.slice(lt, lt + 64))?.[1] ?? '';
        throw this.refusal(`Processing instruction <?${target} is not allowed in FHIR XML (only the XML declaration at the start)`, lt);
      } else pos = this.startTag(lt);
    }
    if (this.stack.length > 0) throw this.error(`Element <${this.stack[this.stack.length - 1]}> is not closed`, xml.length);
    if (!this.root) throw this.error('The document has no root element', xml.length);
    return this.root;
  }

  /** Character data: only whitespace outside the root; references well-formed inside. */
  private text(start: number, end: number): void {
    const xml = this.xml;
    if (this.stack.length === 0) {
      for (let i = start; i < end; i++) {
        if (!isSpace(xml.charCodeAt(i))) {
          throw this.error(this.root ? 'Text after the root element' : 'Text before the root element', i);
        }
      }
      return;
    }
    this.references(start, end);
  }

  /** Each `&` in [start, end) must begin a predefined entity or character reference (§4.1). */
  private references(start: number, end: number): void {
    if (this.nextAmp < start && this.nextAmp !== -2) {
      this.nextAmp = this.xml.indexOf('&', start);
      if (this.nextAmp === -1) this.nextAmp = -2; // none left in the document
    }
    while (this.nextAmp !== -2 && this.nextAmp < end) {
      let after: number;
      try {
        after = referenceEnd(this.xml, this.nextAmp);
      } catch (err) {
        if (err instanceof XmlCharError) throw this.error(err.message, this.nextAmp);
        throw err;
      }
      this.nextAmp = this.xml.indexOf('&', after);
      if (this.nextAmp === -1) this.nextAmp = -2;
    }
  }

  private readName(at: number, what: string): string {
    NAME.lastIndex = at;
    const match = NAME.exec(this.xml);
    if (!match) throw this.error(`Invalid ${what} name`, at);
    return match[0];
  }

  private startTag(lt: number): number {
    const xml = this.xml;
    const name = this.readName(lt + 1, 'element');
    if (isPrototypeName(name)) throw this.refusal(`<${name}> is not an element FHIR XML can have`, lt);
    const isRoot = this.stack.length === 0;
    if (isRoot && this.root) throw this.error('A document has exactly one root element', lt);
    const attributes: Record<string, string> | undefined = isRoot ? {} : undefined;
    let seen: string[] | undefined;
    let i = lt + 1 + name.length;
    let spaced = false;
    for (;;) {
      if (i >= xml.length) throw this.error(`Start tag <${name}> is not closed`, lt);
      const c = xml.charCodeAt(i);
      if (isSpace(c)) {
        i++;
        spaced = true;
        continue;
      }
      if (c === 62 /* > */) {
        i++;
        this.stack.push(name);
        if (this.stack.length > this.maxDepth) throw this.tooDeep();
        break;
      }
      if (c === 47 /* / */) {
        if (xml.charCodeAt(i + 1) !== 62) throw this.error(`Expected '>' after '/' in <${name}>`, i);
        i += 2;
        break;
      }
      if (!spaced) throw this.error(`Attributes of <${name}> must be separated by whitespace`, i);
      const attribute = this.readName(i, 'attribute');
      if (isPrototypeName(attribute)) throw this.refusal(`'${attribute}' is not an attribute FHIR XML can have`, i);
      i += attribute.length;
      while (isSpace(xml.charCodeAt(i))) i++;
      if (xml.charCodeAt(i) !== 61 /* = */) throw this.error(`Attribute '${attribute}' of <${name}> has no value`, i);
      i++;
      while (isSpace(xml.charCodeAt(i))) i++;
      const quote = xml.charCodeAt(i);
      if (quote !== 34 && quote !== 39) throw this.error(`Attribute '${attribute}' of <${name}> must be quoted`, i);
      const close = xml.indexOf(quote === 34 ? '"' : "'", i + 1);
      if (close === -1) throw this.error(`Attribute '${attribute}' of <${name}> is not closed`, i);
      if (this.nextLt < i + 1) this.nextLt = xml.indexOf('<', i + 1);
      if (this.nextLt !== -1 && this.nextLt < close) throw this.error(`'<' is not allowed in the value of attribute '${attribute}'`, this.nextLt);
      this.references(i + 1, close);
      if (seen?.includes(attribute)) throw this.error(`Attribute '${attribute}' is repeated on <${name}>`, i);
      if (seen && seen.length >= MAX_ATTRIBUTES) throw this.refusal(`<${name}> has more than ${MAX_ATTRIBUTES} attributes`, i);
      (seen ??= []).push(attribute);
      if (attributes) attributes[attribute] = xml.slice(i + 1, close);
      i = close + 1;
      spaced = false;
    }
    if (isRoot) this.root = { name, attributes: attributes ?? {} };
    return i;
  }

  private endTag(lt: number): number {
    const xml = this.xml;
    const name = this.readName(lt + 2, 'element');
    let i = lt + 2 + name.length;
    while (isSpace(xml.charCodeAt(i))) i++;
    if (xml.charCodeAt(i) !== 62) throw this.error(`End tag </${name}> is not closed`, lt);
    const open = this.stack.pop();
    if (open !== name) {
      throw this.error(open === undefined ? `End tag </${name}> has no start tag` : `Expected </${open}> but found </${name}>`, lt);
    }
    return i + 1;
  }

  /** `<!`: a comment or CDATA section; a DOCTYPE or any other declaration is refused. */
  private declaration(lt: number): number {
    const xml = this.xml;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      if (end === -1) throw this.error('Comment is not closed', lt);
      if (xml.indexOf('--', lt + 4) < end) throw this.error("'--' is not allowed inside a comment", lt);
      return end + 3;
    }
    if (xml.startsWith('<![CDATA[', lt)) {
      if (this.stack.length === 0) throw this.error('CDATA section outside the root element', lt);
      const end = xml.indexOf(']]>', lt + 9);
      if (end === -1) throw this.error('CDATA section is not closed', lt);
      return end + 3;
    }
    if (xml.startsWith('<!DOCTYPE', lt)) {
      throw this.refusal('DOCTYPE is not allowed in FHIR XML (no DTDs, so no entity declarations or external entities)', lt);
    }
    if (xml.startsWith('<!ENTITY', lt)) throw this.refusal('ENTITY declarations are not allowed in FHIR XML', lt);
    throw this.refusal('Markup declarations are not allowed in FHIR XML', lt);
  }

  /** A well-formedness fault (XML 1.0). */
  private error(message: string, offset: number): Error {
    return this.refusal(`XML is not well-formed: ${message}`, offset);
  }

  /** Well-formed XML that FHIR forbids, or a fault: with its line and column. */
  private refusal(message: string, offset: number): Error {
    let line = 1;
    let lineStart = 0;
    for (let i = this.xml.indexOf('\n'); i !== -1 && i < offset; i = this.xml.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    return invalid(`${message} (line ${line}, column ${offset - lineStart + 1})`);
  }
}

/**
 * Checks `xml` (already through guardXml) and returns its root start tag. Throws FhirError INVALID
 * with the line and column of the first fault, or `tooDeep()` beyond `maxDepth` open elements.
 */
export function checkWellFormed(xml: string, maxDepth: number, tooDeep: () => Error): StartTag {
  return new Checker(xml, maxDepth, tooDeep).run();
}

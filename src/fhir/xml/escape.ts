/**
 * Character-level XML rules. Entities are never expanded from a DTD: only the five predefined
 * entities and character references exist (XML 1.0 §4.6, §4.1), and FHIR forbids DTDs
 * (http://hl7.org/fhir/R4/xml.html, security.html#xml).
 */

const PREDEFINED = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"]]);

/** Characters XML 1.0 cannot carry at all, even as references (XML 1.0 §2.2 Char). */
export const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const ATTRIBUTE_SPECIAL = /[&<\t\n\r]/;

export class XmlCharError extends Error {}

function isXmlCodePoint(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Replaces one `&...;` reference at `amp`; returns [text, index after the reference]. */
function decodeReference(raw: string, amp: number): [string, number] {
  const semi = raw.indexOf(';', amp + 1);
  if (semi === -1 || semi - amp > 12) throw new XmlCharError(`'&' must start an entity or character reference`);
  const name = raw.slice(amp + 1, semi);
  if (name.charCodeAt(0) === 35 /* # */) {
    const hex = name.charCodeAt(1) === 120; /* x */
    const digits = name.slice(hex ? 2 : 1);
    if (!(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) throw new XmlCharError(`Malformed character reference &${name};`);
    const cp = parseInt(digits, hex ? 16 : 10);
    if (!isXmlCodePoint(cp)) throw new XmlCharError(`Character reference &${name}; is not an XML character`);
    return [String.fromCodePoint(cp), semi + 1];
  }
  const text = PREDEFINED.get(name);
  if (text === undefined) {
    throw new XmlCharError(`Undeclared entity &${name}; (FHIR XML has no DTD: only &amp; &lt; &gt; &quot; &apos; and character references)`);
  }
  return [text, semi + 1];
}

/**
 * The value of an attribute as written (entities not expanded by the parser). Applies XML 1.0
 * §3.3.3 attribute-value normalization: a literal tab or newline is a space; `&#10;` is a newline.
 */
export function decodeAttribute(raw: string): string {
  if (!ATTRIBUTE_SPECIAL.test(raw)) return raw;
  let out = '';
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 38 /* & */) {
      const [text, next] = decodeReference(raw, i);
      out += raw.slice(start, i) + text;
      start = next;
      i = next - 1;
    } else if (c === 9 || c === 10 || c === 13) {
      out += raw.slice(start, i) + ' ';
      start = i + 1;
    } else if (c === 60 /* < */) {
      throw new XmlCharError(`'<' is not allowed in an attribute value`);
    }
  }
  return out + raw.slice(start);
}

/** Checks the reference starting at `amp` and returns the index just after it. */
export function referenceEnd(raw: string, amp: number): number {
  return decodeReference(raw, amp)[1];
}

const ESCAPE_NEEDED = /[&<>"\t\n\r\u0000-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/**
 * Escapes a string for a double-quoted attribute. Tab, newline and carriage return become
 * character references so that attribute-value normalization keeps them (XML 1.0 §3.3.3).
 */
export function escapeAttribute(value: string): string {
  if (!ESCAPE_NEEDED.test(value)) return value;
  if (NOT_XML_CHAR.test(value)) throw new XmlCharError('Value contains a character XML 1.0 cannot represent');
  let out = '';
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    let rep: string;
    switch (value.charCodeAt(i)) {
      case 38: rep = '&amp;'; break;
      case 60: rep = '&lt;'; break;
      case 62: rep = '&gt;'; break;
      case 34: rep = '&quot;'; break;
      case 9: rep = '&#9;'; break;
      case 10: rep = '&#10;'; break;
      case 13: rep = '&#13;'; break;
      default: continue;
    }
    out += value.slice(start, i) + rep;
    start = i + 1;
  }
  return out + value.slice(start);
}

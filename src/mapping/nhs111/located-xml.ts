import { XMLParser } from 'fast-xml-parser';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { decodeAttribute, XmlCharError } from '../../fhir/xml/escape.js';
import { DEFAULT_MAX_BYTES, guardXml } from '../../fhir/xml/input-guard.js';
import { localName } from '../../fhir/xml/namespaces.js';
import { checkWellFormed } from '../../fhir/xml/well-formed.js';

/**
 * An element of a partner's XML document with the XPath-like location it was read from
 * (`/Envelope/Body/…/recordTarget/patientRole/id[2]`), so that every defect found later can name
 * its place in the source. Names are local names: the prefixes a sender chooses carry no meaning.
 */
export interface XmlElement {
  readonly name: string;
  readonly path: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text and its descendants', whitespace runs collapsed, trimmed. */
  readonly text: string;
}

/** CDA documents nest sections in sections; 60 levels is far beyond any real PEM (about 25). */
export const MAX_PARTNER_XML_DEPTH = 60;

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true, // siblings' order gives the [n] of their location
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false, // no DTD entities; references are decoded by decodeAttribute
  htmlEntities: false,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: 2 * MAX_PARTNER_XML_DEPTH, // checkWellFormed has refused anything deeper
});

const unreadable = (message: string): FhirError => new FhirError(FhirErrorCode.INVALID, { message, code: 'structure' });

/**
 * Reads untrusted partner XML into located elements: the size limit and XML 1.0 characters
 * (guardXml), then well-formedness with no DOCTYPE, entities or processing instructions and a
 * depth limit (checkWellFormed), before any tree is built. Throws FhirError INVALID when the
 * document cannot be read.
 */
export function readLocatedXml(xml: string, maxBytes = DEFAULT_MAX_BYTES): XmlElement {
  const text = guardXml(xml, maxBytes);
  checkWellFormed(text, MAX_PARTNER_XML_DEPTH, () => unreadable(`XML nesting is deeper than the limit of ${MAX_PARTNER_XML_DEPTH} levels`));
  const nodes = parser.parse(text) as XmlNode[];
  const root = nodes.find((node) => tagOf(node) !== '#text' && tagOf(node) !== '#comment');
  if (!root) throw unreadable('The XML document has no root element');
  try {
    return toElement(root, `/${localName(tagOf(root))}`);
  } catch (err) {
    if (err instanceof XmlCharError) throw unreadable(err.message);
    throw err;
  }
}

function tagOf(node: XmlNode): string {
  for (const key in node) if (key !== ':@') return key;
  return '';
}

/** `path` is the element's own location. */
function toElement(node: XmlNode, path: string): XmlElement {
  const tag = tagOf(node);
  const attributes: Record<string, string> = {};
  const raw = (node[':@'] ?? {}) as Record<string, string>;
  for (const [name, value] of Object.entries(raw)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    attributes[localName(name)] = decodeAttribute(value);
  }
  const content = (node[tag] ?? []) as XmlNode[];
  const elements = content.filter((c) => !('#text' in c) && !('#comment' in c));
  const counts = new Map<string, number>();
  for (const child of elements) counts.set(localName(tagOf(child)), (counts.get(localName(tagOf(child))) ?? 0) + 1);
  const seen = new Map<string, number>();
  const children = elements.map((child) => {
    const name = localName(tagOf(child));
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return toElement(child, `${path}/${name}${(counts.get(name) ?? 0) > 1 ? `[${n}]` : ''}`);
  });
  const texts = content.filter((c) => '#text' in c).map((c) => String(c['#text']));
  let text: string | undefined;
  return {
    name: localName(tag),
    path,
    attributes,
    children,
    // on demand: an ancestor's text would otherwise copy every descendant's (a PEM's base64 case 25 times)
    get text(): string {
      text ??= [...texts.map(decodeAttribute), ...children.map((c) => c.text)].join(' ').replace(/\s+/g, ' ').trim();
      return text;
    },
  };
}

/** The first child called `name`. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** Every child called `name`. */
export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((c) => c.name === name) ?? [];
}

/** The element at the end of a path of child names, taking the first of each. */
export function descend(element: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
  let at = element;
  for (const name of names) at = child(at, name);
  return at;
}

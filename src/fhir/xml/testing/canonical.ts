import { XMLParser } from 'fast-xml-parser';

/**
 * Test support: comparable forms of resources that do not depend on this module's own code paths.
 * Numbers become their JSON source text, so 1.50 and 1.5 differ; narrative divs become their
 * XHTML infoset (fast-xml-parser's own entity decoding), so `&#39;` and `'` are equal.
 */
const xhtmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  processEntities: true,
  htmlEntities: true, // also decodes numeric character references
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  commentPropName: '#comment',
});

export function canonicalXhtml(div: string): string {
  return JSON.stringify(xhtmlParser.parse(div));
}

type SourceReviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

/** JSON text -> value with numbers as `{ $number: sourceText }` and divs as XHTML infosets. */
export function canonicalJson(text: string): unknown {
  return (JSON.parse as (t: string, r: SourceReviver) => unknown)(text, function (key, value, context) {
    if (typeof value === 'number') return { $number: context?.source };
    if (key === 'div' && typeof value === 'string') return { $xhtml: canonicalXhtml(value) };
    return value;
  });
}

const documentParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false, // decoded below, with attribute-value normalization
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
});

const REFERENCE = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeText = (raw: string): string =>
  raw.replace(REFERENCE, (_, hex?: string, dec?: string, name?: string) =>
    name ? NAMED[name] : String.fromCodePoint(parseInt(hex ?? dec ?? '', hex ? 16 : 10)),
  );

type Node = Record<string, unknown>;

/**
 * The XML infoset of a FHIR document as nested arrays: element names, attributes (values decoded
 * after XML 1.0 §3.3.3 normalization; namespace declarations and xsi: attributes left out) and
 * children. Comments are dropped; whitespace-only text is dropped outside XHTML and kept inside.
 */
export function canonicalXml(xml: string): unknown {
  return (documentParser.parse(xml) as Node[]).map((n) => canonicalNode(n, false)).filter((n) => n !== undefined);
}

function canonicalNode(node: Node, inXhtml: boolean): unknown {
  const tag = Object.keys(node)[0];
  if (tag === '#text') {
    const text = node[tag] as string;
    return inXhtml || /\S/.test(text) ? decodeText(text) : undefined;
  }
  const attributes: Record<string, string> = {};
  for (const [name, raw] of Object.entries((node[':@'] as Record<string, string>) ?? {})) {
    if (name === 'xmlns' || name.startsWith('xmlns:') || name.startsWith('xsi:')) continue;
    attributes[name] = decodeText(raw.replace(/[\t\n\r]/g, ' '));
  }
  const xhtml = inXhtml || tag === 'div';
  const children = (node[tag] as Node[]).map((c) => canonicalNode(c, xhtml)).filter((c) => c !== undefined);
  return [tag, attributes, children];
}

import type { Resource } from '@medplum/fhirtypes';
import { XMLParser } from 'fast-xml-parser';
import { rememberDecimalText } from './decimal.js';
import { getLayout, isConcreteResourceType, type Field, type TypeLayout } from './element-layout.js';
import { decodeAttribute, XmlCharError } from './escape.js';
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  guardXml,
  invalid,
  type XmlLimits,
} from './input-guard.js';
import { EMPTY_SCOPE, FHIR_NS, isNamespaceAttribute, localName, namespaceOf, scopeFor, type Scope } from './namespaces.js';
import { primitiveFromXml } from './primitives.js';
import { checkWellFormed } from './well-formed.js';
import { divFromXml } from './xhtml.js';

export interface ParseXmlOptions extends XmlLimits {
  /** The error for nesting beyond `maxDepth`, at `path` where known; by default INVALID. */
  tooDeep?: (path?: string) => Error;
}

/** A node of fast-xml-parser's `preserveOrder` tree: `{ tag: children, ':@': attributes }` or `{ '#text': text }`. */
type XmlNode = Record<string, unknown>;
type Attributes = Record<string, string>;
type JsonObject = Record<string, unknown>;

/** A primitive's children are its extensions (http://hl7.org/fhir/R4/xml.html#primitive). */
const PRIMITIVE_LAYOUT: TypeLayout = {
  typeName: 'primitive',
  isResource: false,
  children: new Map<string, Field>([
    ['extension', { name: 'extension', order: 1, type: 'Extension', kind: 'complex', isArray: true, choiceOf: undefined }],
  ]),
  idIsAttribute: true,
  urlIsAttribute: false,
};

const parsers = new Map<number, XMLParser>();

function parserFor(maxDepth: number): XMLParser {
  let parser = parsers.get(maxDepth);
  if (!parser) {
    parser = new XMLParser({
      preserveOrder: true, // element order is significant in FHIR XML
      ignoreAttributes: false,
      attributeNamePrefix: '',
      processEntities: false, // no DTD entities; references are decoded in escape.ts
      htmlEntities: false,
      trimValues: false, // attribute values are data: keep their whitespace
      parseTagValue: false,
      parseAttributeValue: false,
      ignoreDeclaration: true,
      ignorePiTags: true, // refused by checkWellFormed
      stopNodes: ['*.div'], // narrative XHTML is kept as written
      jPath: false,
      maxNestedTags: 2 * maxDepth, // checkWellFormed has refused anything deeper
    });
    parsers.set(maxDepth, parser);
  }
  return parser;
}

/**
 * Parses a FHIR R4 resource in XML (http://hl7.org/fhir/R4/xml.html) into its JSON object form
 * (http://hl7.org/fhir/R4/json.html). Untrusted input passes guardXml and checkWellFormed before
 * any tree is built. Decimals are numbers whose written text is remembered for the formatters
 * (decimal.ts). Throws FhirError INVALID, naming the element path where there is one.
 */
export function parseFhirXml(xml: string, opts: ParseXmlOptions = {}): Resource {
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const text = guardXml(xml, opts.maxBytes ?? DEFAULT_MAX_BYTES);
  // A backstop against depth bombs before any tree is built; the reader checks the limit exactly,
  // and names the path, for anything up to twice as deep.
  const tooDeep = opts.tooDeep ?? ((path?: string) => depthError(maxDepth, path));
  checkWellFormed(text, 2 * maxDepth, () => tooDeep());
  const nodes = parserFor(maxDepth).parse(text) as XmlNode[];
  // checkWellFormed has seen exactly one root element, with only whitespace and comments around it.
  const root = nodes.find((node) => tagOf(node) !== '#text') as XmlNode;
  return new XmlResourceReader(maxDepth, tooDeep).readRoot(root) as unknown as Resource;
}

function depthError(maxDepth: number, path?: string): Error {
  return invalid(`XML nesting is deeper than the limit of ${maxDepth} levels`, path);
}

function tagOf(node: XmlNode): string {
  for (const key in node) return key;
  return '';
}

/** XML 1.0 §2.3 S. A loop: this runs for every indentation run between elements. */
function isXmlWhitespace(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 9 && c !== 13) return false;
  }
  return true;
}

class XmlResourceReader {
  constructor(
    private readonly maxDepth: number,
    private readonly tooDeep: (path?: string) => Error,
  ) {}

  readRoot(root: XmlNode): JsonObject {
    const tag = tagOf(root);
    const scope = scopeFor(root[':@'] as Attributes | undefined, EMPTY_SCOPE);
    const ns = namespaceOf(tag, scope);
    const name = localName(tag);
    if (ns !== FHIR_NS) {
      throw invalid(
        `Root element <${tag}> must be in the FHIR namespace ${FHIR_NS}` +
          (ns === undefined ? ' (no namespace is declared)' : `, not ${ns}`),
      );
    }
    return this.readResource(root, tag, name, scope, 1, undefined);
  }

  /** `node` is an element named by a resource type, in the FHIR namespace. */
  private readResource(node: XmlNode, tag: string, name: string, scope: Scope, depth: number, parentPath: string | undefined): JsonObject {
    if (!isConcreteResourceType(name)) throw invalid(`Unknown resource type '${name}'`, parentPath);
    const attributes = node[':@'] as Attributes | undefined;
    if (attributes) {
      for (const attribute in attributes) {
        if (!isNamespaceAttribute(attribute, scope)) throw invalid(`Unknown attribute '${attribute}' on a resource`, parentPath ?? name);
      }
    }
    const out: JsonObject = { resourceType: name };
    this.readChildren(node[tag] as XmlNode[], getLayout(name), out, parentPath ?? name, depth, scope);
    return out;
  }

  /**
   * Reads the child elements of one element into `out`. Order and repetition follow the
   * definition: XML order must match it, and an element with max 1 occurs once.
   */
  private readChildren(children: XmlNode[], layout: TypeLayout, out: JsonObject, path: string, depth: number, scope: Scope): void {
    let lastField: Field | undefined;
    // A run of one repeating primitive: its values and its `_name` entries (id, extensions),
    // aligned by index with null where an item has none (http://hl7.org/fhir/R4/json.html#primitive).
    let runValues: unknown[] | undefined;
    let runMetas: unknown[] | undefined;
    let runCount = 0;
    for (const child of children) {
      const tag = tagOf(child);
      if (tag === '#text') {
        if (!isXmlWhitespace(child['#text'])) {
          throw invalid('Text content is not allowed here: FHIR XML carries values in the value attribute', path);
        }
        continue;
      }
      const attributes = child[':@'] as Attributes | undefined;
      const childScope = attributes === undefined ? scope : scopeFor(attributes, scope);
      const name = localName(tag);
      const childPath = `${path}.${name}`;
      const field = layout.children.get(name);
      if (field === undefined || (field.kind !== 'xhtml' && namespaceOf(tag, childScope) !== FHIR_NS)) {
        throw this.unknownElement(tag, name, layout, childPath, childScope);
      }
      if (depth + 1 > this.maxDepth) throw this.tooDeep(childPath);
      if (lastField !== undefined && field !== lastField) {
        if (field.order < lastField.order) {
          throw invalid(`Element '${name}' is out of order: it must come before '${lastField.name}' (FHIR XML element order is significant)`, childPath);
        }
        if (field.order === lastField.order) throw invalid(`Only one of ${field.choiceOf} may be present`, childPath);
        if (runCount > 0) {
          flushRun(out, lastField.name, runValues, runMetas, runCount);
          runValues = runMetas = undefined;
          runCount = 0;
        }
      } else if (field === lastField && !field.isArray) {
        throw invalid(`Element '${name}' occurs more than once but its maximum cardinality is 1`, childPath);
      }
      lastField = field;
      const content = child[tag] as XmlNode[];
      switch (field.kind) {
        case 'primitive': {
          const meta = this.readPrimitiveMeta(content, attributes, childPath, depth + 1, childScope);
          const raw = attributes?.value;
          let value: unknown;
          if (raw !== undefined) {
            if (raw.length === 0) throw invalid('The value attribute must not be empty', childPath);
            const converted = primitiveFromXml(field.type, decode(raw, childPath));
            if (typeof converted === 'object') throw invalid(`Invalid ${field.type}: ${converted.error}`, childPath);
            value = converted;
          } else if (meta === undefined) {
            throw invalid(`<${name}> has no value attribute and no extensions`, childPath);
          }
          if (field.isArray) {
            if (value !== undefined) {
              runValues ??= [];
              while (runValues.length < runCount) runValues.push(null);
              runValues.push(value);
              if (field.type === 'decimal') rememberDecimalText(runValues, String(runCount), value as number, raw as string);
            }
            if (meta !== undefined) {
              runMetas ??= [];
              while (runMetas.length < runCount) runMetas.push(null);
              runMetas.push(meta);
            }
            runCount++;
          } else {
            if (value !== undefined) {
              out[name] = value;
              if (field.type === 'decimal') rememberDecimalText(out, name, value as number, raw as string);
            }
            if (meta !== undefined) out[`_${name}`] = meta;
          }
          break;
        }
        case 'complex': {
          const value: JsonObject = {};
          const childLayout = getLayout(field.type);
          this.readElementAttributes(attributes, childLayout, value, childPath, childScope);
          this.readChildren(content, childLayout, value, childPath, depth + 1, childScope);
          assign(out, field, value);
          break;
        }
        case 'resource':
          assign(out, field, this.readResourceContainer(content, attributes, childPath, depth + 1, childScope));
          break;
        case 'xhtml': {
          if (tag !== name) throw invalid('A namespace-prefixed narrative div is not supported: write <div xmlns="http://www.w3.org/1999/xhtml">', childPath);
          const inner = content.length === 0 ? '' : (content[0]['#text'] as string);
          assign(out, field, divFromXml(attributes, inner, childPath));
          break;
        }
      }
    }
    if (runCount > 0 && lastField) flushRun(out, lastField.name, runValues, runMetas, runCount);
  }

  /** The `_name` entry of a primitive: its id attribute and extension children, if any. */
  private readPrimitiveMeta(content: XmlNode[], attributes: Attributes | undefined, path: string, depth: number, scope: Scope): JsonObject | undefined {
    let meta: JsonObject | undefined;
    if (attributes) {
      for (const attribute in attributes) {
        if (attribute === 'id') (meta ??= {}).id = decode(attributes.id, path);
        else if (attribute !== 'value' && !isNamespaceAttribute(attribute, scope)) {
          throw invalid(`Unknown attribute '${attribute}'`, path);
        }
      }
    }
    if (content.length > 0) {
      const extensions: JsonObject = {};
      this.readChildren(content, PRIMITIVE_LAYOUT, extensions, path, depth, scope);
      if (extensions.extension) (meta ??= {}).extension = extensions.extension;
    }
    return meta;
  }

  /** Element.id and Extension.url are attributes (http://hl7.org/fhir/R4/xml.html). */
  private readElementAttributes(attributes: Attributes | undefined, layout: TypeLayout, out: JsonObject, path: string, scope: Scope): void {
    if (!attributes) return;
    for (const attribute in attributes) {
      if (attribute === 'id' && layout.idIsAttribute) out.id = decode(attributes.id, path);
      else if (attribute === 'url' && layout.urlIsAttribute) out.url = decode(attributes.url, path);
      else if (!isNamespaceAttribute(attribute, scope)) throw invalid(`Unknown attribute '${attribute}'`, path);
    }
  }

  /** An element of type Resource holds exactly one resource element: `<contained><Patient>…`. */
  private readResourceContainer(content: XmlNode[], attributes: Attributes | undefined, path: string, depth: number, scope: Scope): JsonObject {
    if (attributes) {
      for (const attribute in attributes) {
        if (!isNamespaceAttribute(attribute, scope)) throw invalid(`Unknown attribute '${attribute}'`, path);
      }
    }
    let resource: JsonObject | undefined;
    for (const node of content) {
      const tag = tagOf(node);
      if (tag === '#text') {
        if (!isXmlWhitespace(node['#text'])) throw invalid('Text content is not allowed here: expected a resource element', path);
        continue;
      }
      if (resource) throw invalid('Exactly one resource is allowed here', path);
      if (depth + 1 > this.maxDepth) throw this.tooDeep(path);
      const nodeScope = scopeFor(node[':@'] as Attributes | undefined, scope);
      if (namespaceOf(tag, nodeScope) !== FHIR_NS) throw invalid(`Element <${tag}> is not in the FHIR namespace`, path);
      resource = this.readResource(node, tag, localName(tag), nodeScope, depth + 1, path);
    }
    if (!resource) throw invalid('A resource element is expected here', path);
    return resource;
  }

  private unknownElement(tag: string, name: string, layout: TypeLayout, path: string, scope: Scope): Error {
    const ns = namespaceOf(tag, scope);
    if (ns !== FHIR_NS) return invalid(`Element <${tag}> is not in the FHIR namespace (${ns ?? 'no namespace'})`, path);
    if (name === 'id' && layout.idIsAttribute) return invalid(`Unknown element 'id': on elements, id is an attribute`, path);
    if (name === 'url' && layout.urlIsAttribute) return invalid(`Unknown element 'url': Extension.url is an attribute`, path);
    return invalid(`Unknown element '${name}'`, path);
  }
}

function assign(out: JsonObject, field: Field, value: unknown): void {
  if (field.isArray) {
    const list = out[field.name] as unknown[] | undefined;
    if (list) list.push(value);
    else out[field.name] = [value];
  } else {
    out[field.name] = value;
  }
}

function flushRun(out: JsonObject, name: string, values: unknown[] | undefined, metas: unknown[] | undefined, count: number): void {
  if (values) {
    while (values.length < count) values.push(null);
    out[name] = values;
  }
  if (metas) {
    while (metas.length < count) metas.push(null);
    out[`_${name}`] = metas;
  }
}

function decode(raw: string, path: string): string {
  try {
    return decodeAttribute(raw);
  } catch (err) {
    if (err instanceof XmlCharError) throw invalid(err.message, path);
    throw err;
  }
}

import type { Resource } from '@medplum/fhirtypes';
import { decimalText } from './decimal.js';
import { getLayout, isConcreteResourceType, type Field, type TypeLayout } from './element-layout.js';
import { escapeAttribute, XmlCharError } from './escape.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, invalid } from './input-guard.js';
import { FHIR_NS } from './namespaces.js';
import { primitiveToXml } from './primitives.js';
import { checkDivForXml } from './xhtml.js';

export interface FormatXmlOptions {
  /** Indent nested elements by two spaces, one per line. Narrative XHTML is never re-indented. */
  pretty?: boolean;
  /** Deepest element nesting written; the resource element is depth 1. Default 100. */
  maxDepth?: number;
}

type JsonObject = Record<string, unknown>;

/**
 * Writes a resource in its JSON object form as FHIR R4 XML (http://hl7.org/fhir/R4/xml.html):
 * elements in definition order, primitives in `value` attributes, `_name` entries as the `id`
 * attribute and extension children of the primitive, decimals with their written precision
 * (decimal.ts), narrative XHTML verbatim. No XML declaration is written: the text is Unicode and
 * whoever stores or sends it picks the encoding (UTF-8 needs no declaration). Throws FhirError
 * INVALID, naming the path, for anything that is not a valid FHIR JSON shape.
 */
export function formatFhirXml(resource: Resource, opts: FormatXmlOptions = {}): string {
  const writer = new XmlResourceWriter(opts.pretty ?? false, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  writer.writeResource(resource, 0, true, undefined);
  return writer.out;
}

class XmlResourceWriter {
  out = '';
  private readonly indents: string[] = [];

  constructor(
    private readonly pretty: boolean,
    private readonly maxDepth: number,
  ) {}

  writeResource(resource: unknown, level: number, isRoot: boolean, parentPath: string | undefined): void {
    if (!isPlainObject(resource)) throw invalid('Expected a resource object', parentPath);
    const type = resource.resourceType;
    if (typeof type !== 'string' || !isConcreteResourceType(type)) {
      throw invalid(`Unknown resource type ${JSON.stringify(type)}`, parentPath);
    }
    if (level + 1 > this.maxDepth) throw this.depthError(parentPath ?? type);
    const path = parentPath ?? type;
    const layout = getLayout(type);
    const fields = fieldsOf(resource, layout, path);
    this.out += `${this.newline(level)}<${type}${isRoot ? ` xmlns="${FHIR_NS}"` : ''}`;
    this.writeContent(type, resource, fields, level, path);
  }

  private writeContent(name: string, value: JsonObject, fields: Field[], level: number, path: string): void {
    if (fields.length === 0) {
      this.out += '/>';
      return;
    }
    this.out += '>';
    for (const field of fields) this.writeField(value, field, level + 1, path);
    this.out += `${this.newline(level)}</${name}>`;
  }

  private writeField(holder: JsonObject, field: Field, level: number, parentPath: string): void {
    const name = field.name;
    const path = `${parentPath}.${name}`;
    const value = holder[name];
    if (field.kind === 'primitive') {
      const metas = holder[`_${name}`];
      if (!field.isArray) {
        if (Array.isArray(value) || Array.isArray(metas)) throw invalid(`Expected a single value, not an array (maximum cardinality 1)`, path);
        this.writePrimitive(field, value ?? null, metas ?? null, holder, name, level, path);
        return;
      }
      if ((value !== undefined && !Array.isArray(value)) || (metas !== undefined && !Array.isArray(metas))) {
        throw invalid(`Expected an array (the element repeats)`, path);
      }
      const values = value as unknown[] | undefined;
      const metaList = metas as unknown[] | undefined;
      const count = Math.max(values?.length ?? 0, metaList?.length ?? 0);
      if (count === 0) throw invalid('Arrays must not be empty', path);
      if (values && metaList && values.length !== metaList.length) {
        throw invalid(`'${name}' and '_${name}' must have the same length`, path);
      }
      for (let i = 0; i < count; i++) {
        this.writePrimitive(field, values?.[i] ?? null, metaList?.[i] ?? null, values ?? holder, String(i), level, `${path}[${i}]`);
      }
      return;
    }
    if (field.isArray) {
      if (!Array.isArray(value)) throw invalid(`Expected an array (the element repeats)`, path);
      if (value.length === 0) throw invalid('Arrays must not be empty', path);
      for (let i = 0; i < value.length; i++) this.writeSingle(field, value[i], level, `${path}[${i}]`);
    } else {
      if (Array.isArray(value)) throw invalid(`Expected a single value, not an array (maximum cardinality 1)`, path);
      this.writeSingle(field, value, level, path);
    }
  }

  private writeSingle(field: Field, value: unknown, level: number, path: string): void {
    switch (field.kind) {
      case 'complex':
        this.writeComplex(field.name, value, getLayout(field.type), level, path);
        return;
      case 'resource':
        if (level + 1 > this.maxDepth) throw this.depthError(path);
        this.out += `${this.newline(level)}<${field.name}>`;
        this.writeResource(value, level + 1, false, path);
        this.out += `${this.newline(level)}</${field.name}>`;
        return;
      case 'xhtml':
        if (typeof value !== 'string') throw invalid('Narrative div must be a string of XHTML', path);
        checkDivForXml(value, path, DEFAULT_MAX_BYTES);
        this.out += this.newline(level) + value;
        return;
      case 'primitive':
        throw new Error('unreachable: primitives are written by writePrimitive');
    }
  }

  private writeComplex(name: string, value: unknown, layout: TypeLayout, level: number, path: string): void {
    if (!isPlainObject(value)) throw invalid(`Expected an object, got ${value === null ? 'null' : typeof value}`, path);
    if (level + 1 > this.maxDepth) throw this.depthError(path);
    let attributes = '';
    if (layout.idIsAttribute && value.id !== undefined) attributes += ` id="${this.attribute(value.id, path + '.id')}"`;
    if (layout.urlIsAttribute && value.url !== undefined) attributes += ` url="${this.attribute(value.url, path + '.url')}"`;
    this.out += `${this.newline(level)}<${name}${attributes}`;
    this.writeContent(name, value, fieldsOf(value, layout, path), level, path);
  }

  /** One primitive: value attribute, plus the id attribute and extensions from its `_name` entry. */
  private writePrimitive(field: Field, value: unknown, meta: unknown, holder: object, key: string, level: number, path: string): void {
    if (value === null && meta === null) throw invalid('A primitive needs a value or extensions (null on both sides)', path);
    let attributes = '';
    let extensions: unknown[] | undefined;
    if (meta !== null) {
      if (!isPlainObject(meta)) throw invalid(`'_${field.name}' must be an object with id and/or extension`, path);
      for (const metaKey in meta) {
        if (meta[metaKey] === undefined) continue;
        if (metaKey === 'id') attributes += ` id="${this.attribute(meta.id, path + '.id')}"`;
        else if (metaKey === 'extension') {
          if (!Array.isArray(meta.extension) || meta.extension.length === 0) throw invalid('Expected a non-empty array', path + '.extension');
          extensions = meta.extension;
        } else throw invalid(`Unknown property '${metaKey}' in '_${field.name}'`, path);
      }
    }
    if (value !== null) {
      const text =
        field.type === 'decimal' && typeof value === 'number' && Number.isFinite(value)
          ? decimalText(holder, key, value)
          : primitiveToXml(field.type, value);
      if (typeof text === 'object') throw invalid(`Invalid ${field.type}: ${text.error}`, path);
      attributes += ` value="${this.escape(text, path)}"`;
    }
    if (!extensions) {
      this.out += `${this.newline(level)}<${field.name}${attributes}/>`;
      return;
    }
    if (level + 1 > this.maxDepth) throw this.depthError(path);
    this.out += `${this.newline(level)}<${field.name}${attributes}>`;
    const extensionLayout = getLayout('Extension');
    for (let i = 0; i < extensions.length; i++) {
      this.writeComplex('extension', extensions[i], extensionLayout, level + 1, `${path}.extension[${i}]`);
    }
    this.out += `${this.newline(level)}</${field.name}>`;
  }

  private attribute(value: unknown, path: string): string {
    if (typeof value !== 'string' || value.length === 0) throw invalid('Expected a non-empty string', path);
    return this.escape(value, path);
  }

  private escape(text: string, path: string): string {
    try {
      return escapeAttribute(text);
    } catch (err) {
      if (err instanceof XmlCharError) throw invalid(err.message, path);
      throw err;
    }
  }

  private newline(level: number): string {
    if (!this.pretty) return '';
    if (this.out.length === 0) return '';
    return (this.indents[level] ??= '\n' + '  '.repeat(level));
  }

  private depthError(path: string): Error {
    return invalid(`Nesting is deeper than the limit of ${this.maxDepth} levels`, path);
  }
}

/**
 * The fields present in `value`, in definition order. Every property must be an element of the
 * type (or its `_name` partner for primitives); anything else is refused rather than dropped.
 */
function fieldsOf(value: JsonObject, layout: TypeLayout, path: string): Field[] {
  const fields: Field[] = [];
  for (const key in value) {
    if (value[key] === undefined) continue;
    if (key === 'resourceType' && layout.isResource) continue;
    if ((key === 'id' && layout.idIsAttribute) || (key === 'url' && layout.urlIsAttribute)) continue;
    const isMeta = key.charCodeAt(0) === 95; /* _ */
    const field = layout.children.get(isMeta ? key.slice(1) : key);
    if (field === undefined || (isMeta && field.kind !== 'primitive')) throw invalid(`Unknown property '${key}'`, `${path}.${key}`);
    if (value[key] === null) throw invalid('null is not a value: omit the property', `${path}.${key}`);
    if (!fields.includes(field)) fields.push(field);
  }
  // Insertion sort: JSON usually arrives in definition order already, so this is one pass.
  for (let i = 1; i < fields.length; i++) {
    const field = fields[i];
    let j = i - 1;
    while (j >= 0 && fields[j].order > field.order) {
      fields[j + 1] = fields[j];
      j--;
    }
    fields[j + 1] = field;
  }
  for (let i = 1; i < fields.length; i++) {
    if (fields[i].order === fields[i - 1].order) {
      throw invalid(`Only one of ${fields[i].choiceOf} may be present (${fields[i - 1].name}, ${fields[i].name})`, `${path}.${fields[i].name}`);
    }
  }
  return fields;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

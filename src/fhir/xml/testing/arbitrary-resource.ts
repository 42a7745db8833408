import fc from 'fast-check';
import { getLayout, type Field } from '../element-layout.js';

/**
 * Test support: random resources in FHIR JSON form, shaped by the same R4 definitions as the
 * converter (any element of the type, choice variants, repeating primitives with nulls and `_name`
 * entries, extensions, contained resources, narrative XHTML), with hostile strings.
 */
type Json = Record<string, unknown>;
const XHTML = 'http://www.w3.org/1999/xhtml';
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const awkward = fc.constantFrom('&', '<', '>', '"', "'", '\n', '\t', '\r', ' ', ']]>', '&amp;', 'é', '山', '😀', 'a', '0');
export const xmlString = fc
  .oneof(fc.string({ unit: awkward, minLength: 1, maxLength: 8 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }))
  .filter((s) => s.length > 0 && !NOT_XML_CHAR.test(s));

const escapeText = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
export const xhtmlDiv = fc
  .array(fc.oneof(xmlString.map(escapeText), xmlString.map((s) => `<p>${escapeText(s)}</p>`), fc.constant('<br/>')), { minLength: 1, maxLength: 4 })
  .map((parts) => `<div xmlns="${XHTML}">${parts.join('')}</div>`);

const INT32 = { min: -2147483648, max: 2147483647 };

function primitiveValue(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer(INT32);
    case 'unsignedInt':
      return fc.integer({ min: 0, max: INT32.max });
    case 'positiveInt':
      return fc.integer({ min: 1, max: INT32.max });
    case 'decimal':
      return fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d));
    default:
      return xmlString;
  }
}

/** A few resource types for contained / Bundle.entry.resource / Parameters.parameter.resource. */
const INNER_RESOURCES = ['Patient', 'Organization', 'Observation', 'OperationOutcome', 'Basic'];

export class ResourceArbitraries {
  private readonly cache = new Map<string, fc.Arbitrary<Json>>();

  /** A resource of one of `types`, elements nested up to `depth` levels. */
  resource(types: readonly string[], depth: number): fc.Arbitrary<Json> {
    return fc.constantFrom(...types).chain((type) => this.object(type, depth, true));
  }

  object(typeName: string, depth: number, isResource = false): fc.Arbitrary<Json> {
    const key = `${typeName}/${depth}`;
    let arb = this.cache.get(key);
    if (!arb) {
      arb = this.build(typeName, depth, isResource);
      this.cache.set(key, arb);
    }
    return arb;
  }

  private build(typeName: string, depth: number, isResource: boolean): fc.Arbitrary<Json> {
    const layout = getLayout(typeName);
    const groups = new Map<number, Field[]>();
    for (const field of layout.children.values()) {
      if (depth === 0 && field.kind !== 'primitive') continue;
      groups.set(field.order, [...(groups.get(field.order) ?? []), field]);
    }
    const groupArbs = [...groups.values()].map((fields) => fc.oneof(...fields.map((f) => this.field(f, depth))));
    const base: Record<string, fc.Arbitrary<unknown>> = {};
    if (isResource) base.resourceType = fc.constant(typeName);
    if (layout.idIsAttribute) base.id = fc.option(xmlString, { nil: undefined });
    if (layout.urlIsAttribute) base.url = xmlString;
    return fc
      .tuple(fc.record(base), groupArbs.length === 0 ? fc.constant([]) : fc.subarray(groupArbs, { maxLength: Math.min(4, groupArbs.length) }).chain((picked) => fc.tuple(...picked)))
      .map(([head, parts]) => {
        const out: Json = {};
        for (const [k, v] of Object.entries(head)) if (v !== undefined) out[k] = v;
        for (const part of parts as Json[]) Object.assign(out, part);
        return out;
      });
  }

  /** One element's JSON properties: `{ name: value }`, plus `{ _name: … }` for primitives. */
  private field(field: Field, depth: number): fc.Arbitrary<Json> {
    const one = this.single(field, depth);
    if (field.kind !== 'primitive') {
      return (field.isArray ? fc.array(one, { minLength: 1, maxLength: 3 }) : one).map((v) => ({ [field.name]: v }));
    }
    const meta = this.primitiveMeta(depth);
    const item = fc
      .tuple(fc.option(one, { nil: null }), fc.option(meta, { nil: null }))
      .filter(([v, m]) => v !== null || m !== null);
    if (!field.isArray) {
      return item.map(([v, m]) => ({ ...(v !== null && { [field.name]: v }), ...(m !== null && { [`_${field.name}`]: m }) }));
    }
    return fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => {
      const out: Json = {};
      if (items.some(([v]) => v !== null)) out[field.name] = items.map(([v]) => v);
      if (items.some(([, m]) => m !== null)) out[`_${field.name}`] = items.map(([, m]) => m);
      return out;
    });
  }

  private single(field: Field, depth: number): fc.Arbitrary<unknown> {
    switch (field.kind) {
      case 'primitive':
        return primitiveValue(field.type);
      case 'xhtml':
        return xhtmlDiv;
      case 'complex':
        return fc.constant(null).chain(() => this.object(field.type, depth - 1));
      case 'resource':
        return fc.constant(null).chain(() => this.resource(INNER_RESOURCES, Math.min(depth - 1, 1)));
    }
  }

  private primitiveMeta(depth: number): fc.Arbitrary<Json> {
    const extension = depth > 0 ? fc.array(this.object('Extension', 0), { minLength: 1, maxLength: 2 }) : fc.constant(undefined);
    return fc
      .record({ id: fc.option(xmlString, { nil: undefined }), extension: fc.option(extension, { nil: undefined }) })
      .map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)))
      .filter((m) => Object.keys(m).length > 0);
  }
}

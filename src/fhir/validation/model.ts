import type { ElementDefinition, ElementDefinitionType } from '@medplum/fhirtypes';

/**
 * An ElementDefinition placed in its tree: children by path, slices by sliceName
 * (http://hl7.org/fhir/R4/elementdefinition.html#id). Built once per StructureDefinition snapshot.
 */
export interface ElementNode {
  def: ElementDefinition;
  id: string;
  path: string;
  /** Last path segment, e.g. `value[x]`. */
  name: string;
  /** `value` for `value[x]`, else the name. */
  baseName: string;
  isChoice: boolean;
  min: number;
  /** Infinity for `*`. */
  max: number;
  /** JSON array or single value: decided by the base definition's max (http://hl7.org/fhir/R4/json.html#arrays). */
  isArray: boolean;
  /** Normalized type codes (FHIRPath System types mapped to FHIR primitives). */
  types: string[];
  children: ElementNode[];
  slices: ElementNode[];
  sliceName?: string;
}

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const systemTypes: Record<string, string> = {
  'http://hl7.org/fhirpath/System.String': 'string',
  'http://hl7.org/fhirpath/System.Boolean': 'boolean',
  'http://hl7.org/fhirpath/System.Integer': 'integer',
  'http://hl7.org/fhirpath/System.Decimal': 'decimal',
  'http://hl7.org/fhirpath/System.Date': 'date',
  'http://hl7.org/fhirpath/System.DateTime': 'dateTime',
  'http://hl7.org/fhirpath/System.Time': 'time',
};

/** Element.id and Extension.url are typed as FHIRPath System types in R4 snapshots; the fhir-type extension names the FHIR type. */
export function typeCode(type: ElementDefinitionType): string {
  const code = type.code as string;
  if (!code.startsWith('http://hl7.org/fhirpath/System.')) return code;
  const declared = type.extension?.find((e) => e.url === FHIR_TYPE_EXTENSION);
  return declared?.valueUrl ?? declared?.valueUri ?? systemTypes[code] ?? 'string';
}

export function parseMax(max: string | undefined): number {
  if (max === undefined || max === '*') return Infinity;
  return Number(max);
}

export function buildElementTree(elements: ElementDefinition[]): ElementNode {
  const byId = new Map<string, ElementNode>();
  let root: ElementNode | undefined;
  for (const def of elements) {
    const path = def.path as string;
    const id = def.id ?? path;
    const name = path.slice(path.lastIndexOf('.') + 1);
    const isChoice = name.endsWith('[x]');
    const baseMax = def.base?.max ?? def.max ?? '1';
    const node: ElementNode = {
      def,
      id,
      path,
      name,
      baseName: isChoice ? name.slice(0, -3) : name,
      isChoice,
      min: def.min ?? 0,
      max: parseMax(def.max),
      isArray: baseMax !== '1' && baseMax !== '0',
      types: (def.type ?? []).map(typeCode),
      children: [],
      slices: [],
      sliceName: def.sliceName,
    };
    byId.set(id, node);
    if (!root) {
      root = node;
      continue;
    }
    const lastSegment = id.slice(id.lastIndexOf('.') + 1);
    const colon = lastSegment.indexOf(':');
    if (colon >= 0 && def.sliceName) {
      // `A.b:s` is a slice of `A.b` (re-slices `A.b:s/t` are slices of `A.b:s`).
      const slicedId = id.slice(0, id.length - lastSegment.length + colon);
      const sliced = byId.get(slicedId);
      if (sliced) sliced.slices.push(node);
      continue;
    }
    const parent = byId.get(id.slice(0, id.lastIndexOf('.')));
    parent?.children.push(node);
  }
  if (!root) throw new Error('StructureDefinition has no elements');
  return root;
}

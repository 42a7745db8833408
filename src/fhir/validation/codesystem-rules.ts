import type { ValidationContext, ValueCheck } from './context.js';

/**
 * What a CodeSystem says about itself must hang together (http://hl7.org/fhir/R4/codesystem.html),
 * as the HL7 validator's CodeSystem checks say, with its messages:
 * - `content` not-present means no concepts are given; a supplement's content is `supplement`;
 * - each property is declared once, by code and by URI; a property with a standard URI
 *   (http://hl7.org/fhir/concept-properties) has that property's type and usual code;
 * - a concept's property value has the type its declaration gives.
 */

const STANDARD = 'http://hl7.org/fhir/concept-properties#';

/** The standard concept properties and their types (http://hl7.org/fhir/concept-properties). */
export const STANDARD_PROPERTY_TYPES: Readonly<Record<string, string>> = {
  status: 'code',
  inactive: 'boolean',
  effectiveDate: 'dateTime',
  deprecationDate: 'dateTime',
  retirementDate: 'dateTime',
  notSelectable: 'boolean',
  parent: 'code',
  child: 'code',
  partOf: 'code',
  synonym: 'code',
  comment: 'string',
  itemWeight: 'decimal',
};

const VALUE_TYPES = ['code', 'Coding', 'string', 'integer', 'boolean', 'dateTime', 'decimal'];

interface PropertyDeclaration {
  code?: unknown;
  uri?: unknown;
  type?: unknown;
}

interface Concept {
  property?: Array<{ code?: unknown } & Record<string, unknown>>;
  concept?: Concept[];
}

export const codeSystemResourceRule: ValueCheck = (value, path, ctx) => {
  const cs = value as { content?: unknown; supplements?: unknown; concept?: unknown; property?: unknown };
  const concepts = Array.isArray(cs.concept) ? (cs.concept as Concept[]) : [];
  if (cs.content === 'not-present' && concepts.length > 0) {
    ctx.issues.error('value', `${path}.concept[0]`, 'The code system says it has no content present, but concepts are found');
  }
  if (typeof cs.supplements === 'string' && typeof cs.content === 'string' && cs.content !== 'supplement') {
    ctx.issues.error('value', `${path}.content`, "CodeSystem Supplements SHALL have a content value of 'supplement'");
  }
  const declared = checkDeclarations(Array.isArray(cs.property) ? (cs.property as PropertyDeclaration[]) : [], path, ctx);
  checkConceptProperties(concepts, `${path}.concept`, declared, ctx);
};

/** Checks CodeSystem.property; returns the type of each code, as first declared. */
function checkDeclarations(properties: PropertyDeclaration[], path: string, ctx: ValidationContext): Map<string, string> {
  const types = new Map<string, string>();
  const uris = new Set<string>();
  properties.forEach((p, i) => {
    if (p === null || typeof p !== 'object') return;
    const where = `${path}.property[${i}]`;
    const code = typeof p.code === 'string' ? p.code : undefined;
    const type = typeof p.type === 'string' ? p.type : undefined;
    if (code !== undefined) {
      if (types.has(code)) ctx.issues.error('business-rule', where, `A property is already defined with the code '${code}'`);
      else if (type) types.set(code, type);
    }
    const uri = typeof p.uri === 'string' ? p.uri : undefined;
    if (uri !== undefined && uris.has(uri)) {
      ctx.issues.error('business-rule', where, `A property is already defined with the URI '${uri}'`);
    } else if (uri?.startsWith(STANDARD)) {
      const standard = uri.slice(STANDARD.length);
      const expected = STANDARD_PROPERTY_TYPES[standard];
      if (expected !== undefined && code !== undefined && code !== standard) {
        ctx.issues.error('business-rule', where, `The URI '${uri}' is normally assigned the code '${standard}'. Using the code '${code}' will usually create confusion in ValueSet filters etc`);
      }
      if (expected !== undefined && type !== undefined && type !== expected) {
        ctx.issues.error('business-rule', where, `Wrong type '${type}': The URI '${uri}' identifies a property that has the type '${expected}'`);
      }
    } else if (uri === undefined && code !== undefined && STANDARD_PROPERTY_TYPES[code] !== undefined) {
      ctx.issues.warning(
        'business-rule',
        where,
        `This property has only the standard code ('${code}') but not the standard URI '${STANDARD}${code}', so it has no clearly defined meaning in the terminology ecosystem`,
      );
      if (type !== undefined && type !== STANDARD_PROPERTY_TYPES[code]) {
        ctx.issues.warning('business-rule', where, `Wrong type '${type}': The code '${code}' identifies a property that has the type '${STANDARD_PROPERTY_TYPES[code]}'`);
      }
    }
    if (uri !== undefined) uris.add(uri);
  });
  return types;
}

/** Each concept's property values have the declared type (CodeSystem.concept.property.value[x]). */
function checkConceptProperties(concepts: Concept[], path: string, declared: Map<string, string>, ctx: ValidationContext): void {
  concepts.forEach((concept, i) => {
    if (concept === null || typeof concept !== 'object') return;
    const where = `${path}[${i}]`;
    (Array.isArray(concept.property) ? concept.property : []).forEach((property, j) => {
      if (property === null || typeof property !== 'object' || typeof property.code !== 'string') return;
      const type = VALUE_TYPES.find((t) => `value${t[0].toUpperCase()}${t.slice(1)}` in property);
      const expected = declared.get(property.code);
      if (expected === undefined) {
        ctx.issues.warning('business-rule', `${where}.property[${j}]`, `The property '${property.code}' has no definition in CodeSystem.property. Many terminology tools won't know what to do with it`);
      } else if (type !== undefined && type !== expected) {
        ctx.issues.error('business-rule', `${where}.property[${j}]`, `The property '${property.code}' has the invalid type '${type}', when it is defined to have the type '${expected}'`);
      }
    });
    if (Array.isArray(concept.concept)) checkConceptProperties(concept.concept, `${where}.concept`, declared, ctx);
  });
}

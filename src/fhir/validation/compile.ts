import { buildTypeName } from '@medplum/core';
import type { ElementDefinitionConstraint } from '@medplum/fhirtypes';
import { compileBinding } from './bindings.js';
import { canonicalTargetCheck } from './canonical-rules.js';
import type { ValueCheck } from './context.js';
import type { InvariantCheck, InvariantCompiler } from './invariants.js';
import { exampleUrlCheck } from './example-urls.js';
import { markdownHtmlCheck, securityCheck } from './html-in-text.js';
import { checkObject, type ObjectShape, type PropertyRule, type ShapeSource } from './json-walk.js';
import { buildElementTree, type ElementNode } from './model.js';
import { jsonTypeOfPrimitive, primitiveChecks } from './primitives.js';
import { allowedTargetTypes, referenceTargetCheck } from './references.js';
import type { ConformanceRegistry } from './registry.js';
import type { TypeRules } from './rules.js';
import type { Terminology } from './terminology.js';
import { checkNarrativeDiv } from './xhtml.js';

/**
 * Compiles core type and resource definitions into trees of check closures, once per type, so that
 * validating a resource walks its JSON and runs closures without looking anything up by name.
 * JSON rules: http://hl7.org/fhir/R4/json.html.
 */

const resourceBaseTypes = new Set(['Resource', 'DomainResource']);

export class TypeCompiler implements ShapeSource {
  private readonly shapes = new Map<string, ObjectShape | null>();
  private readonly elementShapes = new Map<string, ObjectShape>();
  private readonly primitiveElement: ObjectShape;

  constructor(
    private readonly registry: ConformanceRegistry,
    private readonly terminology: Terminology,
    private readonly invariants: InvariantCompiler,
    private readonly typeRules: TypeRules,
  ) {
    // `_name` siblings of primitives carry an Element: id and extension only (http://hl7.org/fhir/R4/json.html#primitive).
    const element = this.shapeOfType('Element');
    if (!element) throw new Error('The registry has no definition of Element');
    this.primitiveElement = element;
  }

  /** The compiled shape of a complex type or resource by name, or undefined when unknown. */
  shapeOfType(typeName: string): ObjectShape | undefined {
    const cached = this.shapes.get(typeName);
    if (cached !== undefined) return cached ?? undefined;
    const sd = this.registry.getTypeDefinition(typeName);
    if (!sd?.snapshot?.element?.length || sd.kind === 'primitive-type') {
      this.shapes.set(typeName, null);
      return undefined;
    }
    const root = buildElementTree(sd.snapshot.element);
    const shape = this.emptyShape(typeName, typeName, sd.kind === 'resource');
    this.shapes.set(typeName, shape); // before filling, so recursive types (Extension.extension) resolve
    this.fillShape(shape, root, root, new Set());
    return shape;
  }

  get primitiveExtensionShape(): ObjectShape {
    return this.primitiveElement;
  }

  private emptyShape(typeName: string, label: string, isResource: boolean): ObjectShape {
    return {
      typeName,
      label,
      isResource,
      props: Object.create(null) as Record<string, PropertyRule>,
      required: [],
      invariants: [],
      rules: this.typeRules[typeName] ?? [],
      names: [],
    };
  }

  /** Fills a shape from an element's children. `skipKeys`: constraints already checked by the type. */
  private fillShape(shape: ObjectShape, node: ElementNode, treeRoot: ElementNode, skipKeys: Set<string>): void {
    for (const constraint of node.def.constraint ?? []) {
      if (skipKeys.has(constraint.key as string)) continue;
      const check = this.invariants.compile(constraint, shape.typeName);
      if (check) shape.invariants.push(check);
    }
    for (const child of node.children) {
      shape.names.push(child.name);
      if (child.max === 0) continue; // prohibited: any value is an unknown element
      const keys: string[] = [];
      // Resource.id is declared as a FHIRPath String, but resource ids follow the id type (http://hl7.org/fhir/R4/resource.html#id).
      const types = child.def.contentReference ? ['BackboneElement'] : shape.isResource && child.name === 'id' ? ['id'] : child.types;
      for (const typeCode of types) {
        const key = child.isChoice ? child.baseName + typeCode[0].toUpperCase() + typeCode.slice(1) : child.name;
        keys.push(key);
        const primitive = typeCode in jsonTypeOfPrimitive;
        shape.props[key] = {
          key,
          step: child.isChoice ? `${child.baseName}.ofType(${typeCode})` : child.name,
          choice: child.isChoice ? child.name : undefined,
          isArray: child.isArray,
          min: child.min,
          max: child.max,
          primitive,
          typeCode,
          check: this.elementCheck(child, typeCode, treeRoot),
        };
      }
      if (child.min > 0) {
        shape.required.push({
          keys: keys.flatMap((k) => [k, '_' + k]),
          step: child.isChoice ? child.baseName : child.name,
          min: child.min,
          label: child.path,
        });
      }
    }
  }

  /** The check for one value of an element with one of its types. */
  private elementCheck(node: ElementNode, typeCode: string, treeRoot: ElementNode): ValueCheck {
    const checks: ValueCheck[] = [];
    if (typeCode in jsonTypeOfPrimitive) {
      checks.push(primitiveCheck(typeCode));
      if (typeCode === 'xhtml') checks.push(narrativeCheck);
      else if (jsonTypeOfPrimitive[typeCode] === 'string') checks.push(securityCheck); // ValidateOptions.securityChecks
      if (typeCode === 'markdown') checks.push(markdownHtmlCheck); // ValidateOptions.htmlInMarkdown
      const exampleUrls = exampleUrlCheck(typeCode, node.path, this.registry); // ValidateOptions.allowExampleUrls
      if (exampleUrls) checks.push(exampleUrls);
      for (const constraint of node.def.constraint ?? []) {
        const check = this.invariants.compile(constraint, typeCode);
        if (check) checks.push(check);
      }
    } else if (resourceBaseTypes.has(typeCode) || this.registry.isResourceType(typeCode)) {
      const contained = node.path.endsWith('.contained');
      const expected = resourceBaseTypes.has(typeCode) ? undefined : typeCode;
      checks.push((value, path, ctx) => {
        const actual = (value as { resourceType?: unknown } | null)?.resourceType;
        if (expected && typeof actual === 'string' && actual !== expected) {
          ctx.issues.error('structure', path, `${node.path} must be a ${expected}, not a ${actual}`);
          return;
        }
        ctx.engine.validateNestedResource(value, path, ctx, contained);
      });
    } else {
      checks.push(this.objectCheck(node, typeCode, treeRoot));
    }
    const binding = compileBinding(node.def.binding, typeCode, this.terminology);
    if (binding) checks.push(binding);
    if (typeCode === 'Reference') {
      const reference = node.def.type?.find((t) => t.code === 'Reference');
      const allowed = allowedTargetTypes(reference?.targetProfile, this.registry);
      if (allowed) checks.push(referenceTargetCheck(allowed, this.registry, node.path));
    }
    if (typeCode === 'canonical') {
      const allowed = allowedTargetTypes(node.def.type?.find((t) => t.code === 'canonical')?.targetProfile, this.registry);
      if (allowed) checks.push(canonicalTargetCheck(allowed, this.registry));
    }
    return checks.length === 1 ? checks[0] : sequence(checks);
  }

  /** Complex values: an inline backbone, a content reference, or a data type compiled on first use. */
  private objectCheck(node: ElementNode, typeCode: string, treeRoot: ElementNode): ValueCheck {
    const inline = node.def.contentReference
      ? findByPath(treeRoot, node.def.contentReference.slice(node.def.contentReference.indexOf('#') + 1))
      : node.children.length > 0
        ? node
        : undefined;
    if (inline) {
      let shape: ObjectShape | undefined;
      return (value, path, ctx) => {
        shape ??= this.inlineShape(inline, treeRoot);
        checkObject(shape, value, path, ctx, this);
      };
    }
    // Constraints that the element repeats from its type (e.g. ext-1 on every .extension) run once, with the type.
    const elementConstraints = (node.def.constraint ?? []).filter((c) => c.key !== 'ele-1');
    let shape: ObjectShape | undefined | null;
    let own: InvariantCheck[] | undefined;
    return (value, path, ctx) => {
      if (shape === undefined) {
        shape = this.shapeOfType(typeCode) ?? null;
        own = this.ownInvariants(elementConstraints, typeCode);
      }
      if (!shape) {
        ctx.issues.error('not-supported', path, `${node.path} has type ${typeCode}, which this validator has no definition for`);
        return;
      }
      if (!checkObject(shape, value, path, ctx, this)) return;
      for (const check of own as InvariantCheck[]) check(value, path, ctx);
    };
  }

  private ownInvariants(constraints: ElementDefinitionConstraint[], typeCode: string): InvariantCheck[] {
    const typeRoot = this.registry.getTypeDefinition(typeCode)?.snapshot?.element?.[0];
    const typeKeys = new Set((typeRoot?.constraint ?? []).map((c) => c.key));
    const out: InvariantCheck[] = [];
    for (const c of constraints) {
      if (typeKeys.has(c.key)) continue;
      const check = this.invariants.compile(c, typeCode);
      if (check) out.push(check);
    }
    return out;
  }

  private inlineShape(node: ElementNode, treeRoot: ElementNode): ObjectShape {
    const key = `${treeRoot.path}|${node.path}`;
    let shape = this.elementShapes.get(key);
    if (!shape) {
      const typeName = buildTypeName(node.path.split('.'));
      shape = this.emptyShape(typeName, node.path, false);
      this.elementShapes.set(key, shape);
      this.fillShape(shape, node, treeRoot, new Set(['ele-1']));
    }
    return shape;
  }
}

function sequence(checks: ValueCheck[]): ValueCheck {
  return (value, path, ctx) => {
    for (const check of checks) check(value, path, ctx);
  };
}

function findByPath(node: ElementNode, path: string): ElementNode | undefined {
  if (node.path === path) return node;
  for (const child of node.children) {
    if (path === child.path || path.startsWith(child.path + '.')) return findByPath(child, path);
  }
  return undefined;
}

function primitiveCheck(typeCode: string): ValueCheck {
  const lexical = primitiveChecks[typeCode];
  const jsonType = jsonTypeOfPrimitive[typeCode];
  return (value, path, ctx) => {
    const problem = lexical(value);
    if (problem) ctx.issues.error(typeof value === jsonType ? 'value' : 'structure', path, problem);
  };
}

const narrativeCheck: ValueCheck = (value, path, ctx) => {
  if (typeof value !== 'string' || value.length === 0) return;
  for (const problem of checkNarrativeDiv(value)) {
    ctx.issues.add(problem.information ? 'information' : 'error', problem.key ? 'invariant' : 'value', path, problem.message, problem.key);
  }
};


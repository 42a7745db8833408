import type { ExtensionHost, ValidationContext, ValueCheck } from './context.js';
import type { InvariantCheck } from './invariants.js';

/**
 * Walks one JSON object against a compiled shape (compile.ts): unknown elements, JSON arrays versus
 * single values, null, empty objects and arrays, `_name` primitive extensions, one type per choice,
 * required elements, then the shape's invariants and type rules. JSON rules:
 * http://hl7.org/fhir/R4/json.html.
 */

export interface PropertyRule {
  /** JSON key, e.g. `onsetDateTime`. */
  key: string;
  /** FHIRPath step for issue expressions, e.g. `onset.ofType(dateTime)`. */
  step: string;
  /** The choice element (`onset[x]`) for choice keys. */
  choice?: string;
  isArray: boolean;
  min: number;
  max: number;
  primitive: boolean;
  typeCode: string;
  /** Checks one non-null item. */
  check: ValueCheck;
}

export interface RequiredRule {
  keys: string[];
  step: string;
  min: number;
  label: string;
}

export interface ObjectShape {
  /** FHIRPath type name of the object, e.g. `Period` or `PatientContact`. */
  typeName: string;
  /** Element path for messages, e.g. `Patient.contact`. */
  label: string;
  isResource: boolean;
  props: Record<string, PropertyRule>;
  required: RequiredRule[];
  invariants: InvariantCheck[];
  rules: readonly ValueCheck[];
  /** Element names, for "did you mean" hints. */
  names: string[];
}

/** Where checkObject finds the shape of `_name` siblings (an Element: id and extension). */
export interface ShapeSource {
  readonly primitiveExtensionShape: ObjectShape;
}

function describeJson(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a JSON ${typeof value}`;
}

/**
 * Validates a JSON object against a shape. Returns false when the value is not an object at all (so
 * callers skip checks that need one). `host`: the element this object's extensions belong to, when
 * it is not the object itself (a primitive's `_name` sibling).
 */
export function checkObject(shape: ObjectShape, value: unknown, path: string, ctx: ValidationContext, compiler: ShapeSource, host?: ExtensionHost): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    ctx.issues.error('structure', path, `${shape.label} must be a JSON object, but this is ${describeJson(value)}`);
    return false;
  }
  const obj = value as Record<string, unknown>;
  const props = shape.props;
  let children = 0;
  let choices: Record<string, string> | undefined;
  for (const key in obj) {
    const item = obj[key];
    if (key === 'resourceType' && shape.isResource) continue;
    if (key !== 'id') children++;
    let rule = props[key];
    if (rule === undefined) {
      if (key.charCodeAt(0) === 95 /* _ */) {
        const base = props[key.slice(1)];
        if (base?.primitive) {
          checkPrimitiveSibling(base, shape, obj, path, ctx, compiler);
          if (!(key.slice(1) in obj)) choices = noteChoice(base, choices, path, ctx);
          continue;
        }
      }
      unknownElement(shape, key, path, ctx);
      continue;
    }
    if (rule.choice) choices = noteChoice(rule, choices, path, ctx);
    const itemPath = `${path}.${rule.step}`;
    // extensions are checked knowing the element they sit on (their context, extension-context.ts)
    const itemCtx = key === 'extension' || key === 'modifierExtension' ? { ...ctx, extensionHost: host ?? hostOf(shape, obj) } : ctx;
    if (item === null) {
      ctx.issues.error('structure', itemPath, `${itemPath} is null; JSON null is not a FHIR value (omit the element instead)`);
      continue;
    }
    if (rule.isArray) {
      if (!Array.isArray(item)) {
        ctx.issues.error('structure', itemPath, `${shape.label}.${rule.key} repeats (0..${rule.max === Infinity ? '*' : rule.max}) and must be a JSON array, but this is ${describeJson(item)}`);
        continue;
      }
      checkArray(rule, item, obj, itemPath, itemCtx);
    } else {
      if (Array.isArray(item)) {
        ctx.issues.error('structure', itemPath, `${shape.label}.${rule.key} has at most one value and must not be a JSON array (found ${item.length} items)`);
        continue;
      }
      rule.check(item, itemPath, itemCtx);
    }
  }
  if (children === 0 && !shape.isResource) {
    ctx.issues.error('invariant', path, `${shape.label} is empty: an element must have a value or children (ele-1)`, 'ele-1');
  }
  for (const required of shape.required) {
    let present = false;
    for (const k of required.keys) {
      if (obj[k] !== undefined && obj[k] !== null) {
        present = true;
        break;
      }
    }
    if (!present) {
      ctx.issues.error('required', `${path}.${required.step}`, `${required.label} is required (minimum cardinality ${required.min}) but is missing`);
    }
  }
  for (const check of shape.invariants) check(obj, path, ctx);
  for (const rule of shape.rules) rule(obj, path, ctx);
  return true;
}

function checkArray(rule: PropertyRule, items: unknown[], obj: Record<string, unknown>, path: string, ctx: ValidationContext): void {
  if (items.length === 0) {
    ctx.issues.error('structure', path, `${path} is an empty array; omit the element instead`);
    return;
  }
  if (items.length > rule.max) {
    ctx.issues.error('structure', path, `${path} has ${items.length} values but allows at most ${rule.max}`);
  }
  if (items.length < rule.min) {
    ctx.issues.error('required', path, `${path} has ${items.length} values but needs at least ${rule.min}`);
  }
  const extensions = rule.primitive ? obj['_' + rule.key] : undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const itemPath = `${path}[${i}]`;
    if (item === null) {
      // null holds a place for an item that only has extensions (http://hl7.org/fhir/R4/json.html#primitive)
      const ext = Array.isArray(extensions) ? extensions[i] : undefined;
      if (ext === undefined || ext === null) {
        ctx.issues.error('structure', itemPath, `${itemPath} is null without a matching _${rule.key}[${i}] extension`);
      }
      continue;
    }
    rule.check(item, itemPath, ctx);
  }
}

function hostOf(shape: ObjectShape, obj: Record<string, unknown>): ExtensionHost {
  return { value: obj, typeName: shape.typeName, typePath: shape.label, isResource: shape.isResource };
}

/** The primitive a `_name` sibling gives extensions to: `Patient.birthDate`, a date. */
function primitiveHost(rule: PropertyRule, parent: ObjectShape, obj: Record<string, unknown>, value: unknown): ExtensionHost {
  const host: ExtensionHost = { value, typeName: rule.typeCode, typePath: `${parent.label}.${rule.choice ?? rule.key}`, isResource: false };
  if (parent.typeName === 'Extension' && typeof obj.url === 'string') host.ofExtension = obj.url;
  return host;
}

/** The `_name` sibling of a primitive: an Element (id, extension), arrays aligned with the values. */
function checkPrimitiveSibling(rule: PropertyRule, parent: ObjectShape, obj: Record<string, unknown>, path: string, ctx: ValidationContext, compiler: ShapeSource): void {
  const ext = obj['_' + rule.key];
  const values = obj[rule.key];
  const extPath = `${path}.${rule.step}`;
  const shape = compiler.primitiveExtensionShape;
  if (!rule.isArray) {
    if (Array.isArray(ext)) {
      ctx.issues.error('structure', extPath, `_${rule.key} must be a JSON object because ${rule.key} has at most one value`);
      return;
    }
    checkObject(shape, ext, extPath, ctx, compiler, primitiveHost(rule, parent, obj, values));
    return;
  }
  if (!Array.isArray(ext)) {
    ctx.issues.error('structure', extPath, `_${rule.key} must be a JSON array aligned with ${rule.key}`);
    return;
  }
  if (Array.isArray(values) && values.length !== ext.length) {
    ctx.issues.error(
      'structure',
      extPath,
      `${rule.key} has ${values.length} values but _${rule.key} has ${ext.length}; the two arrays must have the same length`,
    );
  }
  if (!Array.isArray(values) && ext.length > rule.max) {
    ctx.issues.error('structure', extPath, `${extPath} has ${ext.length} values but allows at most ${rule.max}`);
  }
  for (let i = 0; i < ext.length; i++) {
    const item = ext[i];
    if (item === null) {
      if (!Array.isArray(values) || values[i] === null || values[i] === undefined) {
        ctx.issues.error('structure', `${extPath}[${i}]`, `${extPath}[${i}] has neither a value nor an extension`);
      }
      continue;
    }
    checkObject(shape, item, `${extPath}[${i}]`, ctx, compiler, primitiveHost(rule, parent, obj, Array.isArray(values) ? values[i] : undefined));
  }
}

function noteChoice(rule: PropertyRule, seen: Record<string, string> | undefined, path: string, ctx: ValidationContext): Record<string, string> {
  const choice = rule.choice as string;
  const map = seen ?? {};
  const previous = map[choice];
  if (previous !== undefined && previous !== rule.key) {
    ctx.issues.error('structure', `${path}.${choice.slice(0, -3)}`, `Only one type of ${choice} may be present, but found ${previous} and ${rule.key}`);
  }
  map[choice] = rule.key;
  return map;
}

function unknownElement(shape: ObjectShape, key: string, path: string, ctx: ValidationContext): void {
  const name = key.startsWith('_') ? key.slice(1) : key;
  let hint = '';
  const caseMatch = shape.names.find((n) => n.toLowerCase() === name.toLowerCase());
  const choice = shape.names.find((n) => n.endsWith('[x]') && name.startsWith(n.slice(0, -3)) && /^[A-Z]/.test(name.slice(n.length - 3)));
  if (caseMatch) hint = ` (element names are case-sensitive: did you mean ${caseMatch}?)`;
  else if (choice) {
    const allowed = Object.values(shape.props).filter((p) => p.choice === choice).map((p) => p.typeCode);
    hint = ` (${choice} does not allow type ${name.slice(choice.length - 3)}; allowed: ${allowed.join(', ')})`;
  } else if (key.startsWith('_')) hint = ` (_${name} may only accompany a primitive element)`;
  ctx.issues.error('structure', `${path}.${key}`, `Unknown element '${key}' in ${shape.label}${hint}`);
}

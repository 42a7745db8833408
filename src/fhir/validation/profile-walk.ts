import { nestedContext, type ValidationContext } from './context.js';
import { jsonTypeOfPrimitive } from './primitives.js';
import type { SlicingCheck } from './slicing.js';

/**
 * Applies a compiled profile (profiles.ts) to JSON: finds the values of each constrained element,
 * checks their count, types and value checks, descends into children and hands repeating values to
 * the slicing check.
 */

/** A compiled profile element: what to check about its values, and which children to visit. */
export interface ProfileNode {
  name: string;
  baseName: string;
  isChoice: boolean;
  /** Type code of the element's values when it has one type ('' otherwise; choice items carry their own). */
  type: string;
  label: string;
  /** Cardinality to enforce, when narrower than the base. */
  cardinality?: { min: number; max: number };
  /** Types allowed, when a choice is narrowed. */
  types?: Set<string>;
  /** Checks for each value; receives the value's type code. */
  valueChecks: Array<(value: unknown, type: string, path: string, ctx: ValidationContext, item?: ProfileItem) => void>;
  children: ProfileNode[];
  slicing?: SlicingCheck;
}

export interface ProfileItem {
  value: unknown;
  type: string;
  path: string;
  /** A primitive's `_name` object (its id and extensions), when it has one (json.html#primitive). */
  primitiveElement?: unknown;
}

/**
 * Values of an element in a JSON object, with their types and paths. A primitive that only has
 * extensions (`_name`) is present, with an undefined value (http://hl7.org/fhir/R4/json.html#primitive).
 */
export function itemsOf(node: ProfileNode, obj: Record<string, unknown>, path: string): ProfileItem[] {
  const out: ProfileItem[] = [];
  if (node.isChoice) {
    for (const key in obj) {
      if (!key.startsWith(node.baseName) || key.length === node.baseName.length) continue;
      const suffix = key.slice(node.baseName.length);
      if (!/^[A-Z]/.test(suffix)) continue;
      const lower = suffix[0].toLowerCase() + suffix.slice(1);
      const type = lower in jsonTypeOfPrimitive ? lower : suffix;
      pushItems(out, obj[key], obj[`_${key}`], type, `${path}.${node.baseName}.ofType(${type})`);
    }
    for (const key in obj) {
      // `_valueString` without `valueString`
      if (!key.startsWith(`_${node.baseName}`) || obj[key.slice(1)] !== undefined) continue;
      const suffix = key.slice(node.baseName.length + 1);
      const lower = suffix[0]?.toLowerCase() + suffix.slice(1);
      if (lower in jsonTypeOfPrimitive) pushItems(out, undefined, obj[key], lower, `${path}.${node.baseName}.ofType(${lower})`);
    }
    return out;
  }
  pushItems(out, obj[node.name], obj[`_${node.name}`], node.type, `${path}.${node.name}`);
  return out;
}

function present(x: unknown): boolean {
  return x !== undefined && x !== null;
}

function pushItems(out: ProfileItem[], value: unknown, extension: unknown, type: string, path: string): void {
  if (Array.isArray(value) || Array.isArray(extension)) {
    const values = Array.isArray(value) ? value : [];
    const extensions = Array.isArray(extension) ? extension : [];
    for (let i = 0; i < Math.max(values.length, extensions.length); i++) {
      if (present(values[i]) || present(extensions[i])) {
        out.push({ value: present(values[i]) ? values[i] : undefined, type, path: `${path}[${i}]`, primitiveElement: present(extensions[i]) ? extensions[i] : undefined });
      }
    }
  } else if (present(value) || present(extension)) {
    out.push({ value: present(value) ? value : undefined, type, path, primitiveElement: present(extension) ? extension : undefined });
  }
}

/**
 * The context for what is inside a value: a resource held by the element (contained, a Bundle
 * entry's resource) is its own %resource (fhirpath.html#variables), and a contained one keeps its
 * container as %rootResource. The element's own checks still see the holder as %resource.
 */
function inside(item: ProfileItem, node: ProfileNode, ctx: ValidationContext): ValidationContext {
  const resourceType = (item.value as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string') return ctx;
  const nested = nestedContext(ctx, { type: resourceType, value: item.value }, node.name === 'contained');
  return { ...nested, resourcePath: item.path };
}

export function visitChildren(children: ProfileNode[], obj: Record<string, unknown>, path: string, ctx: ValidationContext): void {
  for (const node of children) {
    const items = itemsOf(node, obj, path);
    checkItems(node, items, path, ctx);
  }
}

/** Applies a compiled element to the values found for it. */
export function checkItems(node: ProfileNode, items: ProfileItem[], parentPath: string, ctx: ValidationContext): void {
  const where = `${parentPath}.${node.isChoice ? node.baseName : node.name}`;
  if (node.cardinality) {
    const { min, max } = node.cardinality;
    if (items.length < min) {
      ctx.issues.error('required', where, `${node.label} needs at least ${min} value${min === 1 ? '' : 's'} in this profile, but has ${items.length}`);
    } else if (items.length > max) {
      ctx.issues.error('structure', where, `${node.label} allows at most ${max} value${max === 1 ? '' : 's'} in this profile, but has ${items.length}`);
    }
  }
  for (const item of items) {
    if (node.types && !node.types.has(item.type)) {
      ctx.issues.error('structure', item.path, `${node.label} allows only ${[...node.types].join(', ')} in this profile, not ${item.type}`);
      continue;
    }
    for (const check of node.valueChecks) check(item.value, item.type, item.path, ctx, item);
    if (node.children.length > 0 && item.value !== null && typeof item.value === 'object') {
      visitChildren(node.children, item.value as Record<string, unknown>, item.path, inside(item, node, ctx));
    }
  }
  node.slicing?.(items, where, ctx);
}

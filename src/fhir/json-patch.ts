import { FhirError, FhirErrorCode, badRequest } from '../errors.js';
import { checkInputLimits, DEFAULT_INPUT_LIMITS, type InputLimits } from './input-limits.js';

/**
 * JSON Patch (RFC 6902) over a resource, bounded while it runs. A patch is small, but `copy`
 * duplicates: 12 pairs of `copy /name → /name/0/extension` and `copy /name/0 → /name/-` in 1.7 KB
 * grew a Patient exponentially and blocked the server for 14 s; 16 pairs killed it (issue 13). So
 * each operation is applied on its own and checked before the next: the nesting and array length
 * it makes against the input limits, and everything it inserts against a budget for the whole
 * patch that removals do not give back, so the work of any patch is bounded by its limits.
 */
export interface PatchLimits extends InputLimits {
  /** Most operations in one patch. */
  maxOperations: number;
  /** What one patch may insert in all, in bytes of JSON (estimated); by default MAX_BODY_BYTES. */
  maxInsertedBytes: number;
}

export const DEFAULT_PATCH_LIMITS: PatchLimits = { ...DEFAULT_INPUT_LIMITS, maxOperations: 1000, maxInsertedBytes: 10 * 1024 * 1024 };

export type PatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; path: string; from: string };

/** Property names that mean something to JavaScript objects and are no FHIR element. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks a JSON Patch document's shape: 400 at `[i]`, `[i].path` or `[i].from` for what is no
 * RFC 6902 operation; 413 `too-costly` beyond `maxOperations`.
 */
export function patchOperations(body: unknown, limits: PatchLimits = DEFAULT_PATCH_LIMITS): PatchOperation[] {
  if (!Array.isArray(body)) throw badRequest('A JSON Patch document is an array of operations (RFC 6902)');
  if (body.length > limits.maxOperations) {
    throw new FhirError(FhirErrorCode.TOO_LARGE, { message: `A patch may have at most ${limits.maxOperations} operations; this one has ${body.length}`, code: 'too-costly' });
  }
  body.forEach(checkOperation);
  return body as PatchOperation[];
}

function checkOperation(op: unknown, i: number): void {
  const o = op as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw badRequest(`Patch operation ${i} is not an object`, `[${i}]`);
  if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(o.op as string)) throw badRequest(`Patch operation ${i} has no valid 'op' (add, remove, replace, move, copy or test)`, `[${i}].op`);
  parsePointer(o.path, `[${i}].path`);
  if ((o.op === 'move' || o.op === 'copy') && !Object.hasOwn(o, 'from')) throw badRequest(`Patch operation ${i} (${o.op}) needs 'from'`, `[${i}]`);
  if (o.op === 'move' || o.op === 'copy') parsePointer(o.from, `[${i}].from`);
  if ((o.op === 'add' || o.op === 'replace' || o.op === 'test') && !Object.hasOwn(o, 'value')) throw badRequest(`Patch operation ${i} (${o.op}) needs 'value'`, `[${i}]`);
}

/** A JSON Pointer's reference tokens (RFC 6901 §3–4); 400 at `where` when it is none. */
function parsePointer(pointer: unknown, where: string): string[] {
  if (typeof pointer !== 'string') throw badRequest(`${where} must be a JSON Pointer string`, where);
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`'${pointer}' is not a JSON Pointer: it must be empty or start with '/' (RFC 6901)`, where);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~(?![01])/.test(token)) throw badRequest(`'${pointer}' is not a JSON Pointer: '~' must be followed by 0 or 1 (RFC 6901)`, where);
      const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
      if (PROTOTYPE_KEYS.has(key)) throw badRequest(`'${key}' is not a FHIR element name`, where);
      return key;
    });
}

/**
 * Applies `ops` to `doc` (changed in place, and returned: a patch of the root replaces it). An
 * operation that cannot apply is 422 at `Parameters.operation[i]`; one beyond a limit is 413
 * `too-costly` there. The result is checked against the input limits as a request body would be.
 */
export function applyJsonPatch(doc: Record<string, unknown>, ops: PatchOperation[], limits: PatchLimits = DEFAULT_PATCH_LIMITS): Record<string, unknown> {
  const budget = { left: limits.maxInsertedBytes };
  let root: unknown = doc;
  ops.forEach((op, i) => {
    root = applyOne(root, op, i, limits, budget);
  });
  if (!isContainer(root) || Array.isArray(root)) throw failed(ops.length - 1, 'The patched document is not a resource');
  checkInputLimits(root, limits);
  return root;
}

function applyOne(root: unknown, op: PatchOperation, i: number, limits: PatchLimits, budget: { left: number }): unknown {
  const path = parsePointer(op.path, `[${i}].path`);
  switch (op.op) {
    case 'test':
      if (!deepEqual(valueAt(root, path, i), op.value)) throw failed(i, `the value at '${op.path}' is not the one given`);
      return root;
    case 'remove':
      if (!path.length) throw failed(i, 'the whole resource cannot be removed');
      return remove(root, path, i);
    case 'replace':
      valueAt(root, path, i);
      return insert(path.length ? remove(root, path, i) : root, path, op.value, i, limits, budget);
    case 'add':
      return insert(root, path, op.value, i, limits, budget);
    case 'move': {
      const from = parsePointer(op.from, `[${i}].from`);
      if (from.length < path.length && from.every((t, k) => t === path[k])) throw failed(i, `'${op.from}' cannot be moved into itself`);
      const value = valueAt(root, from, i);
      if (!from.length) throw failed(i, 'the whole resource cannot be moved');
      // a move inserts nothing new, but walking what it moves is work: it is charged all the same
      return insert(remove(root, from, i), path, value, i, limits, budget);
    }
    case 'copy':
      return insert(root, path, valueAt(root, parsePointer(op.from, `[${i}].from`), i), i, limits, budget, { clone: true });
  }
}

/** The value at `path`; 422 when there is none. */
function valueAt(root: unknown, path: string[], i: number): unknown {
  let node = root;
  for (const token of path) node = child(node, token, i);
  return node;
}

function child(node: unknown, token: string, i: number): unknown {
  if (Array.isArray(node)) return node[arrayIndex(node, token, i, false)];
  if (isContainer(node) && Object.hasOwn(node, token)) return node[token];
  throw failed(i, `there is no '${token}' at this point of the path`);
}

function remove(root: unknown, path: string[], i: number): unknown {
  const parent = valueAt(root, path.slice(0, -1), i);
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, i, false), 1);
  else if (isContainer(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw failed(i, `there is no '${last}' to remove`);
  return root;
}

/** Adds `value` at `path` (RFC 6902 §4.1) once it is within the limits. */
function insert(root: unknown, path: string[], found: unknown, i: number, limits: PatchLimits, budget: { left: number }, opts = { clone: false }): unknown {
  // measured before it is cloned: the budget bounds the cloning too
  const size = measure(found, budget.left, i);
  budget.left -= size.bytes;
  const value = opts.clone ? structuredClone(found) : found;
  if (!path.length) return checkedDepth(value, 0, size.depth, i, limits);
  const parentPath = path.slice(0, -1);
  const parent = valueAt(root, parentPath, i);
  const last = path[path.length - 1];
  checkedDepth(value, depthOf(root, path), size.depth, i, limits);
  if (Array.isArray(parent)) {
    const at = last === '-' ? parent.length : arrayIndex(parent, last, i, true);
    if (parent.length + 1 > limits.maxArrayItems) throw tooCostly(i, `an array would have more than ${limits.maxArrayItems} items`);
    parent.splice(at, 0, value);
  } else if (isContainer(parent)) parent[last] = value;
  else throw failed(i, `'${last}' cannot be added to a value that is neither an object nor an array`);
  return root;
}

/** How many element names (not array indexes) lead to `path`'s last token, as input-limits.ts counts depth. */
function depthOf(root: unknown, path: string[]): number {
  let node = root;
  let depth = 0;
  for (const token of path) {
    if (!Array.isArray(node)) depth++;
    node = Array.isArray(node) ? node[Number(token)] : isContainer(node) ? node[token] : undefined;
  }
  return depth;
}

function checkedDepth(value: unknown, at: number, below: number, i: number, limits: PatchLimits): unknown {
  if (at + below > limits.maxDepth) throw tooCostly(i, `the resource would be nested more than ${limits.maxDepth} levels deep`);
  return value;
}

/**
 * The estimated size of `value` in bytes of JSON and its nesting, walked iteratively; 413 as soon
 * as the size passes `left`, so measuring never costs more than the budget it guards.
 */
function measure(value: unknown, left: number, i: number): { bytes: number; depth: number } {
  let bytes = 0;
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [v, depth] = item;
    deepest = Math.max(deepest, depth);
    if (typeof v === 'string') bytes += v.length + 2;
    else if (Array.isArray(v)) {
      bytes += 2 + v.length;
      for (const x of v) stack.push([x, depth]);
    } else if (isContainer(v)) {
      bytes += 2;
      for (const [k, x] of Object.entries(v)) {
        bytes += k.length + 4;
        stack.push([x, depth + 1]);
      }
    } else bytes += String(v).length;
    if (bytes > left) throw tooCostly(i, 'the patch would insert more than the largest request body accepted');
  }
  return { bytes, depth: deepest };
}

/** An array index token (RFC 6901 §4: no leading zeros); up to the length itself when adding. */
function arrayIndex(array: unknown[], token: string, i: number, adding: boolean): number {
  const n = /^(0|[1-9]\d{0,8})$/.test(token) ? Number(token) : NaN;
  if (!(n < array.length || (adding && n === array.length))) throw failed(i, `'${token}' is not an index of an array of ${array.length} items`);
  return n;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, k) => deepEqual(x, b[k]));
  if (!isContainer(a) || !isContainer(b) || Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

const isContainer = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function failed(i: number, why: string): FhirError {
  return new FhirError(FhirErrorCode.UNPROCESSABLE, { message: `Patch operation ${i} failed: ${why}`, expression: `Parameters.operation[${i}]`, code: 'processing' });
}

function tooCostly(i: number, why: string): FhirError {
  return new FhirError(FhirErrorCode.TOO_LARGE, { message: `Patch operation ${i} was not applied: ${why}`, expression: `Parameters.operation[${i}]`, code: 'too-costly' });
}

/** The limits a patch is held to, from the request body's (MAX_BODY_BYTES bounds what it may insert). */
export function patchLimitsOf(input: InputLimits, maxBodyBytes: number): PatchLimits {
  return { ...input, maxOperations: DEFAULT_PATCH_LIMITS.maxOperations, maxInsertedBytes: maxBodyBytes };
}

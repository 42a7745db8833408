import fc from 'fast-check';
import { anyJson, deepJson } from './values.js';

/*
 * Mutations of a valid JSON document, as data fast-check can shrink: a walk into the document by
 * numbers (each picks a key or an item), then what to do there; and edits of the text itself
 * (truncation, an inserted fragment, a duplicate key) for what no JSON value can express.
 */

export interface TreeMutation {
  steps: number[];
  op: 'set' | 'delete' | 'wrap' | 'add';
  value: unknown;
}

export interface TextMutation {
  op: 'none' | 'truncate' | 'insert' | 'duplicate-key';
  at: number;
  fragment: string;
}

export const treeMutation: fc.Arbitrary<TreeMutation> = fc.record({
  steps: fc.array(fc.nat(40), { maxLength: 6 }),
  op: fc.constantFrom('set', 'set', 'delete', 'wrap', 'add'),
  value: fc.oneof({ weight: 9, arbitrary: anyJson }, { weight: 1, arbitrary: deepJson }),
});

const FRAGMENTS = ['"__proto__":{"polluted":true},', '"constructor":{"prototype":{"x":1}},', ',', '}', ']', '{', '"', '\\u0000', '\\ud800', '1e400', '-', 'NaN', '"resourceType":"Patient",', '"id":"x",', ' ', '\u0000', '\ufeff'];

export const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  op: fc.constantFrom('none', 'none', 'none', 'truncate', 'insert', 'duplicate-key'),
  at: fc.nat(),
  fragment: fc.constantFrom(...FRAGMENTS),
});

/** `doc` with the mutations applied (a copy; `doc` is left alone). */
export function mutateTree(doc: unknown, mutations: TreeMutation[]): unknown {
  const copy = structuredClone(doc);
  for (const m of mutations) applyOne(copy, m);
  return copy;
}

function applyOne(root: unknown, m: TreeMutation): void {
  let parent: Record<string, unknown> | unknown[] | undefined;
  let key: string | number | undefined;
  let node = root;
  for (const step of m.steps) {
    if (node === null || typeof node !== 'object') break;
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node as Record<string, unknown>;
    key = keys[step % keys.length];
    node = (parent as Record<string | number, unknown>)[key];
  }
  if (parent === undefined || key === undefined) return;
  const container = parent as Record<string | number, unknown>;
  // a copy: the pools' constants ([], {}) are shared by every case, and a later mutation may walk into what is put here
  const value = structuredClone(m.value);
  if (m.op === 'set') container[key] = value;
  else if (m.op === 'wrap') container[key] = [container[key]];
  else if (m.op === 'add' && !Array.isArray(parent)) container[`x${String(key)}`] = value;
  else if (m.op === 'add') (parent as unknown[]).push(value);
  else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete container[key];
}

/** The text with one edit (positions wrap around its length). */
export function mutateText(text: string, m: TextMutation): string {
  const at = text.length === 0 ? 0 : m.at % text.length;
  switch (m.op) {
    case 'none':
      return text;
    case 'truncate':
      return text.slice(0, at);
    case 'insert':
      return text.slice(0, at) + m.fragment + text.slice(at);
    case 'duplicate-key':
      // a second resourceType after the first: the last one would win in JSON.parse
      return text.replace(/^\s*\{/, '{"resourceType":"Observation",');
  }
}

import { describe, expect, it } from 'vitest';
import { FhirError } from '../errors.js';
import { applyJsonPatch, DEFAULT_PATCH_LIMITS, patchOperations, type PatchLimits } from './json-patch.js';

const patient = () => ({ resourceType: 'Patient', id: 'p1', active: true, name: [{ family: 'Ash', given: ['A', 'B'] }] });

function refusal(fn: () => unknown): { status: number; expression?: string[]; code: string } {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    return { status: err.status, expression: err.issues[0].expression, code: err.issues[0].code };
  }
  throw new Error('expected a refusal');
}

const patch = (ops: unknown, doc: Record<string, unknown> = patient(), limits: PatchLimits = DEFAULT_PATCH_LIMITS) => applyJsonPatch(doc, patchOperations(ops, limits), limits);

/** The probe of issue 13: each pair doubles the names, and nests them one level deeper. */
const doubling = (pairs: number) =>
  Array.from({ length: pairs }, () => [
    { op: 'copy', from: '/name', path: '/name/0/extension' },
    { op: 'copy', from: '/name/0', path: '/name/-' },
  ]).flat();

describe('JSON Patch (RFC 6902)', () => {
  it('applies each operation in order', () => {
    const out = patch([
      { op: 'add', path: '/gender', value: 'other' },
      { op: 'replace', path: '/name/0/given/1', value: 'C' },
      { op: 'add', path: '/name/0/given/0', value: 'Z' },
      { op: 'add', path: '/name/0/given/-', value: 'Y' },
      { op: 'remove', path: '/active' },
      { op: 'copy', from: '/name/0/family', path: '/name/0/text' },
      { op: 'move', from: '/gender', path: '/name/0/suffix' },
      { op: 'test', path: '/name/0/given', value: ['Z', 'A', 'C', 'Y'] },
    ]);
    expect(out).toEqual({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Ash', given: ['Z', 'A', 'C', 'Y'], text: 'Ash', suffix: 'other' }] });
  });

  it('copies a value, not a reference to it', () => {
    const out = patch([
      { op: 'copy', from: '/name/0', path: '/name/-' },
      { op: 'replace', path: '/name/1/family', value: 'Birch' },
    ]) as { name: { family: string }[] };
    expect(out.name.map((n) => n.family)).toEqual(['Ash', 'Birch']);
  });

  it.each([
    ['a path without a slash', [{ op: 'replace', path: 'active', value: true }], '[0].path'],
    ['a path into __proto__', [{ op: 'add', path: '/__proto__/x', value: 1 }], '[0].path'],
    ['a path into constructor', [{ op: 'add', path: '/name/0/constructor', value: 1 }], '[0].path'],
    ['a bad escape', [{ op: 'add', path: '/a~2b', value: 1 }], '[0].path'],
    ['a copy without from', [{ op: 'copy', path: '/name' }], '[0]'],
    ['a move from a number', [{ op: 'move', from: 5, path: '/name' }], '[0].from'],
    ['an add without value', [{ op: 'test', path: '/active', value: true }, { op: 'add', path: '/x' }], '[1]'],
    ['an unknown op', [{ op: 'merge', path: '/name' }], '[0].op'],
    ['an operation that is no object', [null], '[0]'],
  ])('refuses %s with 400 at the operation', (_name, ops, expression) => {
    expect(refusal(() => patch(ops))).toMatchObject({ status: 400, expression: [expression] });
  });

  it.each([
    ['removing the whole resource', [{ op: 'remove', path: '' }]],
    ['a missing member', [{ op: 'remove', path: '/gender' }]],
    ['an index past the end', [{ op: 'add', path: '/name/0/given/5', value: 'x' }]],
    ['an index with a leading zero', [{ op: 'replace', path: '/name/0/given/01', value: 'x' }]],
    ['"-" outside an add', [{ op: 'remove', path: '/name/-' }]],
    ['a move into itself', [{ op: 'move', from: '/name', path: '/name/0/x' }]],
    ['a failing test', [{ op: 'add', path: '/gender', value: 'male' }, { op: 'test', path: '/gender', value: 'female' }]],
  ])('refuses %s with 422 at Parameters.operation[i]', (_name, ops) => {
    const r = refusal(() => patch(ops));
    expect(r).toMatchObject({ status: 422, code: 'processing' });
    expect(r.expression).toEqual([`Parameters.operation[${ops.length - 1}]`]);
  });

  it('refuses the exponential copy of issue 13 with 413 at the operation that crossed a limit, quickly', () => {
    const started = Date.now();
    const r = refusal(() => patch(doubling(40)));
    expect(r).toMatchObject({ status: 413, code: 'too-costly' });
    expect(r.expression![0]).toMatch(/^Parameters\.operation\[\d+\]$/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('counts what a patch inserts, so no nesting or size limit lets it grow without bound', () => {
    const wide: PatchLimits = { ...DEFAULT_PATCH_LIMITS, maxDepth: 1000, maxInsertedBytes: 64 * 1024 };
    expect(refusal(() => patch(doubling(40), patient(), wide))).toMatchObject({ status: 413, code: 'too-costly' });
    // removing what was copied gives nothing back: a copy-and-remove loop is bounded too
    const loop = Array.from({ length: 500 }, () => [
      { op: 'copy', from: '/name', path: '/copy' },
      { op: 'remove', path: '/copy' },
    ]).flat();
    const small: PatchLimits = { ...DEFAULT_PATCH_LIMITS, maxInsertedBytes: 4096 };
    expect(refusal(() => patch(loop, patient(), small))).toMatchObject({ status: 413 });
  });

  it('bounds nesting and array length while patching', () => {
    const shallow: PatchLimits = { ...DEFAULT_PATCH_LIMITS, maxDepth: 3 };
    expect(refusal(() => patch([{ op: 'add', path: '/name/0/period', value: { start: { x: 1 } } }], patient(), shallow))).toMatchObject({ status: 413, expression: ['Parameters.operation[0]'] });
    const short: PatchLimits = { ...DEFAULT_PATCH_LIMITS, maxArrayItems: 3 };
    const ops = [{ op: 'add', path: '/name/0/given/-', value: 'C' }, { op: 'add', path: '/name/0/given/-', value: 'D' }];
    expect(refusal(() => patch(ops, patient(), short))).toMatchObject({ status: 413, expression: ['Parameters.operation[1]'] });
  });

  it('bounds the number of operations', () => {
    const many = Array.from({ length: DEFAULT_PATCH_LIMITS.maxOperations + 1 }, () => ({ op: 'test', path: '/active', value: true }));
    expect(refusal(() => patch(many))).toMatchObject({ status: 413, code: 'too-costly' });
  });

  it('checks the result as a request body: no control character comes in through a path', () => {
    expect(refusal(() => patch([{ op: 'add', path: '/na\u0001me', value: 'x' }]))).toMatchObject({ status: 400 });
  });
});

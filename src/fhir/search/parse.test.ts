import { describe, expect, it } from 'vitest';
import { FhirError } from '../../errors.js';
import { parseSearch, splitValues } from './parse.js';

const parse = (type: string, qs: string, strict = true) => parseSearch(type, [...new URLSearchParams(qs)], { strict });

function error(fn: () => unknown): FhirError {
  try {
    fn();
  } catch (e) {
    return e as FhirError;
  }
  throw new Error('expected an error');
}

describe('parseSearch', () => {
  it('parses tokens in all four forms', () => {
    const q = parse('Patient', 'identifier=a|b&gender=|female&identifier=sys|&active=true');
    expect(q.filters.map((f) => (f.kind === 'param' ? f.values[0] : undefined))).toEqual([
      { kind: 'token', system: 'a', code: 'b' },
      { kind: 'token', system: null, code: 'female' },
      { kind: 'token', system: 'sys', code: undefined },
      { kind: 'token', code: 'true' },
    ]);
  });

  it('splits OR values on unescaped commas only', () => {
    expect(splitValues('a,b\\,c,d\\|e')).toEqual(['a', 'b,c', 'd|e']);
  });

  it('reads prefixes on dates and numbers', () => {
    const q = parse('RiskAssessment', 'date=ge2024-01&probability=lt0.5');
    const [d, n] = q.filters as { values: { prefix: string }[] }[];
    expect(d.values[0].prefix).toBe('ge');
    expect(n.values[0]).toMatchObject({ kind: 'number', prefix: 'lt', value: '0.5' });
  });

  it('caps _count at 1000 and defaults to 20', () => {
    expect(parse('Task', '').count).toBe(20);
    expect(parse('Task', '_count=5000').count).toBe(1000);
  });

  it('builds chains against the reference targets that have the parameter', () => {
    const q = parse('Task', 'patient.identifier=x|1');
    const f = q.filters[0];
    expect(f.kind).toBe('chain');
    if (f.kind === 'chain') expect(f.targets.map((t) => t.type)).toEqual(['Patient']);
  });

  it('builds _has', () => {
    const f = parse('Patient', '_has:Task:patient:status=requested').filters[0];
    expect(f).toMatchObject({ kind: 'has', sourceType: 'Task' });
  });

  it('names the parameter in every error', () => {
    expect(error(() => parse('Task', 'colour=red')).issues[0].expression).toEqual(['colour']);
    expect(error(() => parse('Task', 'authored-on=soon')).issues[0].expression).toEqual(['authored-on']);
    expect(error(() => parse('Task', 'status:contains=x')).issues[0].expression).toEqual(['status:contains']);
    expect(error(() => parse('Task', '_sort=colour')).issues[0].expression).toEqual(['_sort']);
    expect(error(() => parse('Task', '_include=Task:status')).issues[0].expression).toEqual(['_include']);
    expect(error(() => parse('Task', 'owner.colour=x')).issues[0].expression).toEqual(['owner.colour']);
  });

  it('bounds the number of parameters and of OR values', () => {
    expect(error(() => parse('Task', Array.from({ length: 65 }, (_, i) => `status=s${i}`).join('&'))).status).toBe(400);
    expect(error(() => parse('Task', `_id=${Array.from({ length: 101 }, (_, i) => `id${i}`).join(',')}`)).status).toBe(400);
    expect(parse('Task', `_id=${Array.from({ length: 100 }, (_, i) => `id${i}`).join(',')}`).filters).toHaveLength(1);
  });

  it('ignores unknown parameters when lenient, keeping them out of the applied list and listing them as ignored', () => {
    const q = parse('Task', 'colour=red&status=requested&owner.colour=blue', false);
    expect(q.filters).toHaveLength(1);
    expect(q.applied).toEqual([['status', 'requested']]);
    expect(q.ignored.map((i) => i.parameter)).toEqual(['colour', 'owner.colour']);
    expect(parse('Task', 'status=requested').ignored).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { allows, formatScope, intersectScopes, parseScope, parseScopes } from '../../src/security/scopes.js';

const text = (scopes: ReturnType<typeof parseScopes>) => scopes.map(formatScope).sort();

describe('SMART scopes', () => {
  it.each([
    ['system/Task.rs', 'system/Task.rs'],
    ['user/*.cruds', 'user/*.cruds'],
    ['patient/*.rs', 'patient/*.rs'],
    ['user/Patient.read', 'user/Patient.rs'],
    ['system/Task.write', 'system/Task.cud'],
    ['system/*.*', 'system/*.cruds'],
  ])('reads %s as %s', (scope, v2) => {
    expect(formatScope(parseScope(scope)!)).toBe(v2);
  });

  it.each(['system/Task.sr', 'system/Task.rr', 'system/Task.', 'system/Task.x', 'admin/Task.rs', 'openid', 'launch/patient', 'patient/Observation.rs?category=vital-signs', 'system/task.rs'])(
    'grants nothing for %s',
    (scope) => {
      expect(parseScope(scope)).toBeUndefined();
    },
  );

  it('allows by type or wildcard, letter by letter', () => {
    const scopes = parseScopes('system/Task.rs openid system/*.c');
    expect(allows(scopes, 'Task', 'r')).toBe(true);
    expect(allows(scopes, 'Task', 'u')).toBe(false);
    expect(allows(scopes, 'Patient', 'c')).toBe(true);
    expect(allows(scopes, 'Patient', 'r')).toBe(false);
    // a system-wide need is met by a wildcard only
    expect(allows(scopes, '*', 's')).toBe(false);
    expect(allows(parseScopes('user/*.rs'), '*', 's')).toBe(true);
  });

  it('narrows what is asked for to what is registered, never widening it', () => {
    const registered = parseScopes('system/Task.cruds system/Patient.rs user/*.cruds');
    expect(text(intersectScopes(parseScopes('system/*.rs'), registered))).toEqual(['system/Patient.rs', 'system/Task.rs']);
    expect(text(intersectScopes(parseScopes('system/Patient.cruds'), registered))).toEqual(['system/Patient.rs']);
    expect(text(intersectScopes(parseScopes('system/Observation.rs'), registered))).toEqual([]);
    expect(text(intersectScopes(parseScopes('user/Observation.read'), registered))).toEqual(['user/Observation.rs']);
  });
});

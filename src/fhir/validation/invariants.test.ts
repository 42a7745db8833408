import { readFileSync } from 'node:fs';
import { evalFhirPathTyped, parseFhirPath, type TypedValue } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import type { ValidationContext } from './context.js';
import { compareDates } from './dates.js';
import { InvariantCompiler, invariantStrategies, nativeExpressions } from './invariants.js';
import { IssueList } from './issues.js';
import { errorAt, errors, summary, testValidator } from './test-support.js';

const validate = (resource: unknown) => testValidator().validate(resource);

describe('FHIRPath invariants', () => {
  it('reports a failed constraint with its key and human text', () => {
    const issue = errorAt(validate({ resourceType: 'Organization', active: true }), 'Organization');
    expect(issue?.code).toBe('invariant');
    expect(issue?.details?.coding?.[0]?.code).toBe('org-1');
    expect(issue?.diagnostics).toBe('Constraint org-1 failed: The organization SHALL at least have a name or an identifier, and possibly more than one');
  });

  it('evaluates constraints of backbone elements at each element', () => {
    const issues = validate({ resourceType: 'Patient', contact: [{ name: { family: 'A' } }, { relationship: [{ text: 'x' }] }] });
    expect(summary(errors(issues))).toEqual([expect.stringMatching(/^error Patient.contact\[1\]: Constraint pat-1 failed/)]);
  });

  it('evaluates constraints of data types wherever they are used', () => {
    const issues = validate({ resourceType: 'Patient', name: [{ period: { start: '2020-02-01', end: '2020-01-01' } }] });
    expect(errorAt(issues, 'Patient.name[0].period')?.details?.coding?.[0]?.code).toBe('per-1');
  });

  it('uses %resource: bdl-3 on a transaction without requests', () => {
    const issues = validate({ resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient' } }] });
    expect(errorAt(issues, 'Bundle')?.details?.coding?.[0]?.code).toBe('bdl-3');
  });

  it('compares dateTimes as instants, time zones included (Task inv-1)', () => {
    const task = (authoredOn: string, lastModified: string) => ({ resourceType: 'Task', status: 'ready', intent: 'order', authoredOn, lastModified });
    // 10:00+01:00 is 09:00Z, before 09:30Z: valid, although the strings compare the other way.
    expect(errors(validate(task('2024-03-01T10:00:00+01:00', '2024-03-01T09:30:00Z')))).toEqual([]);
    expect(errorAt(validate(task('2024-03-01T10:00:00Z', '2024-03-01T10:30:00+01:00')), 'Task')?.details?.coding?.[0]?.code).toBe('inv-1');
  });

  it('does not fail when the order of dates of different precision is unknown (per-1)', () => {
    const period = (start: string, end: string) => validate({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, period: { start, end } });
    expect(errors(period('2024-03-01', '2024-03-01T10:00:00Z'))).toEqual([]);
    expect(errors(period('2024-03-01T10:00:00+01:00', '2024-03-01T09:30:00Z'))).toEqual([]);
    expect(errorAt(period('2024-03-03', '2024-03-01T10:00:00Z'), 'Encounter.period')).toBeDefined();
  });
});

describe('dom-3: contained resources are referenced', () => {
  const withContained = (extra: Record<string, unknown>) => ({
    resourceType: 'Patient',
    contained: [{ resourceType: 'Organization', id: 'org1', name: 'A' }],
    ...extra,
  });

  it('fails for an unreferenced contained resource', () => {
    expect(errorAt(validate(withContained({})), 'Patient')?.details?.coding?.[0]?.code).toBe('dom-3');
  });

  it('passes when referenced from the resource or from another contained resource', () => {
    expect(errors(validate(withContained({ managingOrganization: { reference: '#org1' } })))).toEqual([]);
    const viaContained = {
      resourceType: 'Patient',
      contained: [
        { resourceType: 'Organization', id: 'org1', name: 'A', partOf: { reference: '#org2' } },
        { resourceType: 'Organization', id: 'org2', name: 'B' },
      ],
      managingOrganization: { reference: '#org1' },
    };
    expect(errors(validate(viaContained))).toEqual([]);
  });

  it('passes when the contained resource refers to its container with # (also for ref-1)', () => {
    const resource = {
      resourceType: 'Patient',
      id: 'p',
      contained: [{ resourceType: 'Provenance', id: 'prov', target: [{ reference: '#' }], recorded: '2024-01-01T00:00:00Z', agent: [{ who: { display: 'x' } }] }],
    };
    expect(summary(errors(validate(resource)))).toEqual([]);
  });
});

describe('evaluation strategies', () => {
  const registry = testValidator().registry;
  const coreConstraints = [...registry.allStructureDefinitions()]
    .filter((sd) => sd.derivation === 'specialization')
    .flatMap((sd) => (sd.snapshot?.element ?? []).flatMap((e) => (e.constraint ?? []).filter((c) => c.severity === 'error')));

  it('every native rule replaces exactly the R4 expression it names', () => {
    for (const c of coreConstraints) {
      if (invariantStrategies[c.key as string]?.how === 'native') expect(c.expression, c.key).toBe(nativeExpressions[c.key as string]);
    }
  });

  it('every R4 error constraint is evaluable, native or structural: none would be a "not checked" warning', () => {
    const compiler = new InvariantCompiler();
    const ctx = fakeContext({});
    const unchecked: string[] = [];
    for (const c of coreConstraints) {
      const check = compiler.compile(c, 'Element');
      ctx.issues.items.length = 0;
      check?.({}, 'X', ctx);
      if (ctx.issues.items.some((i) => i.code === 'not-supported')) unchecked.push(c.key as string);
    }
    expect(unchecked).toEqual([]);
  });

  it('warns instead of passing silently when an expression uses an unsupported function', () => {
    const check = new InvariantCompiler().compile({ key: 'x-1', severity: 'error', human: 'h', expression: 'descendants().exists()' }, 'Patient');
    const ctx = fakeContext({});
    check?.({}, 'Patient', ctx);
    expect(summary(ctx.issues.items)).toEqual([expect.stringMatching(/^warning Patient: Constraint x-1 \(h\) was not checked: it uses descendants\(\)/)]);
  });

  it('warns when an expression fails at run time', () => {
    const check = new InvariantCompiler().compile({ key: 'x-2', severity: 'error', human: 'h', expression: "name.given.substring(0) = 'a'" }, 'Patient');
    const ctx = fakeContext({});
    check?.({ name: [{ given: ['a', 'b'] }] }, 'Patient', ctx);
    expect(ctx.issues.items.map((i) => i.severity)).toEqual(['warning']);
  });

  it('ignores warning-level constraints (best practice)', () => {
    expect(new InvariantCompiler().compile({ key: 'dom-6', severity: 'warning', human: 'h', expression: 'text.`div`.exists()' }, 'Patient')).toBeUndefined();
  });

  /** Each native rule must answer as medplum's FHIRPath does on values where medplum is right. */
  it.each([
    ['ext-1', 'Extension', [{ url: 'u', valueString: 'x' }, { url: 'u' }, { url: 'u', extension: [{ url: 'v', valueString: 'x' }] }, { url: 'u', valueString: 'x', extension: [{ url: 'v' }] }]],
    ['ref-1', 'Reference', [{ reference: '#c1' }, { reference: '#c2' }, { reference: 'Patient/1' }, { display: 'x' }]],
    ['dom-2', 'Patient', [{}, { contained: [{ resourceType: 'Organization', id: 'c1' }] }, { contained: [{ resourceType: 'Organization', id: 'c1', contained: [{ resourceType: 'Organization' }] }] }]],
    ['dom-4', 'Patient', [{}, { contained: [{ resourceType: 'Organization', id: 'c1', meta: { versionId: '1' } }] }, { contained: [{ resourceType: 'Organization', id: 'c1', meta: { lastUpdated: '2024-01-01T00:00:00Z' } }] }, { contained: [{ resourceType: 'Organization', id: 'c1', meta: { source: 'x' } }] }]],
    ['dom-5', 'Patient', [{}, { contained: [{ resourceType: 'Organization', id: 'c1', meta: { security: [{ code: 'R' }] } }] }]],
    ['bdl-5', 'BundleEntry', [{ resource: { resourceType: 'Patient' } }, { request: { method: 'GET', url: 'x' } }, { fullUrl: 'urn:x' }]],
    ['bdl-8', 'BundleEntry', [{ fullUrl: 'http://x/Patient/1' }, { fullUrl: 'http://x/Patient/1/_history/2' }]],
    ['per-1', 'Period', [{ start: '2020-01-01', end: '2020-02-01' }, { start: '2020-03-01', end: '2020-02-01' }, { start: '2020-01-01' }]],
  ] as const)('native %s agrees with FHIRPath', (key, type, samples) => {
    const root = { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'c1' }] };
    const compiled = new InvariantCompiler().compile({ key, severity: 'error', human: key, expression: nativeExpressions[key] }, type);
    for (const sample of samples) {
      const ctx = fakeContext(root);
      compiled?.(sample, 'X', ctx);
      const viaFhirPath = evalFhirPathTyped(parseFhirPath(nativeExpressions[key]), [{ type, value: sample }], {
        '%resource': ctx.resource,
        '%rootResource': ctx.rootResource,
      });
      const fails = viaFhirPath.length === 1 && viaFhirPath[0].value === false;
      expect(ctx.issues.items.length > 0, `${key} on ${JSON.stringify(sample)}`).toBe(fails);
    }
  });
});

describe('compareDates (FHIRPath date ordering)', () => {
  it.each([
    ['2024-03-01', '2024-03-02', -1],
    ['2024-03-01T10:00:00+01:00', '2024-03-01T09:30:00Z', -1],
    ['2024-03-01T09:00:00Z', '2024-03-01T10:00:00+01:00', 0],
    ['2024', '2024-05', undefined],
    ['2024-03-01', '2024-03-01T12:00:00Z', undefined],
    ['2023', '2024-05-01', -1],
    ['2024-03-01T09:30:00.500Z', '2024-03-01T09:30:00.250Z', 1],
  ] as const)('%s vs %s -> %s', (a, b, expected) => {
    expect(compareDates(a, b)).toBe(expected);
  });
});

function fakeContext(root: Record<string, unknown>): ValidationContext {
  const tv: TypedValue = { type: (root.resourceType as string) ?? 'Patient', value: root };
  return {
    issues: new IssueList(),
    resource: tv,
    rootResource: tv,
    bundle: undefined,
    engine: { validateNestedResource: () => undefined, checkAgainstProfile: () => false },
  };
}

describe('README', () => {
  it('lists every invariant checked without FHIRPath', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('| key | how | why |'), readme.indexOf('A native rule replaces'));
    for (const [key, { how }] of Object.entries(invariantStrategies)) {
      expect(table, key).toMatch(new RegExp(`\\|[^|\\n]*\\b${key}\\b[^|\\n]*\\| ${how} \\|`));
    }
  });
});

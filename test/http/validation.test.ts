import { readFileSync } from 'node:fs';
import type { Bundle, OperationOutcome, Task } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEPWISE_CANONICAL_BASE, expandCanonicalPlaceholder, stepwiseProfileUrl } from '../../src/fhir/canonical.js';
import { loadStepwiseConformance } from '../../src/fhir/stepwise-profiles.js';
import { upsertAll } from '../../src/store/seed.js';
import { patient } from '../support/builders.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await upsertAll(t.store, loadStepwiseConformance());
});
afterAll(() => t.close());

const example = (profile: string, file: string) =>
  JSON.parse(expandCanonicalPlaceholder(readFileSync(new URL(`../../profiles/examples/${profile}/${file}`, import.meta.url), 'utf8')));
const TRIAGE = stepwiseProfileUrl('StepwiseTriageTask');
const validate = async (path: string, body: unknown, query = '') => {
  const res = await t.fhir('POST', `${path}/$validate${query}`, body);
  return { status: res.status, oo: (await res.json()) as OperationOutcome };
};
const errors = (oo: OperationOutcome) => oo.issue.filter((i) => i.severity === 'error');

describe('$validate', () => {
  it('answers 200 with an informational outcome for a valid resource', async () => {
    const { status, oo } = await validate('Patient', patient());
    expect(status).toBe(200);
    expect(oo.issue).toEqual([expect.objectContaining({ severity: 'information' })]);
  });

  it('lists every issue with its expression for an invalid one, still 200', async () => {
    const { status, oo } = await validate('Patient', { resourceType: 'Patient', gender: 'F', birthDate: '1980-13-01' });
    expect(status).toBe(200);
    expect(errors(oo).flatMap((i) => i.expression)).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate']));
  });

  it('validates against a Stepwise profile named as a parameter, in a Parameters body', async () => {
    const valid = example('StepwiseTriageTask', 'valid-awaiting-information.json') as Task;
    const invalid = example('StepwiseTriageTask', 'invalid-no-due-time.json') as Task;
    const params = (resource: Task) => ({
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource },
        { name: 'profile', valueCanonical: TRIAGE },
      ],
    });
    expect(errors((await validate('Task', params(valid))).oo)).toEqual([]);
    expect(errors((await validate('Task', params(invalid))).oo).length).toBeGreaterThan(0);
  });

  it('reports an unknown profile by its URL instead of passing silently', async () => {
    const { oo } = await validate('Patient', patient(), '?profile=https://example.org/StructureDefinition/nope');
    expect(JSON.stringify(errors(oo))).toContain('https://example.org/StructureDefinition/nope');
  });

  it('checks modes: update needs the instance and a matching id, delete needs an existing resource', async () => {
    expect((await validate('Patient', patient(), '?mode=update')).status).toBe(400);
    const { oo } = await validate('Patient/abc', { ...patient(), id: 'xyz' }, '?mode=update');
    expect(errors(oo)[0].expression).toEqual(['Patient.id']);
    expect((await t.fhir('POST', 'Patient/unknown/$validate?mode=delete')).status).toBe(404);
    expect((await validate('Patient', patient(), '?mode=sideways')).status).toBe(400);
    expect((await t.fhir('GET', 'Patient/$validate')).status).toBe(405);
  });
});

describe('validation on write', () => {
  it('refuses a resource that breaks its declared Stepwise profile with 422, naming the fault', async () => {
    const invalid = example('StepwiseTriageTask', 'invalid-no-due-time.json') as Task;
    const res = await t.fhir('POST', 'Task', invalid);
    expect(res.status).toBe(422);
    const oo = (await res.json()) as OperationOutcome;
    expect(errors(oo).length).toBeGreaterThan(0);
    const valid = example('StepwiseTriageTask', 'valid-awaiting-information.json') as Task;
    expect((await t.fhir('POST', 'Task', valid)).status).toBe(201);
  });

  it('refuses a required binding violation and an NHS number failing Modulus 11', async () => {
    const res = await t.fhir('POST', 'Patient', patient({ identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000008' }] }));
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain('Modulus 11');
    expect((await t.fhir('POST', 'Patient', patient({ gender: 'F' as never }))).status).toBe(422);
  });

  it('with WRITE_VALIDATION=log stores the resource and logs the errors', async () => {
    const lines: string[] = [];
    const lenient = await startTestApp(undefined, { writeValidation: 'log', logger: pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) }) });
    const res = await lenient.fhir('POST', 'Patient', patient({ gender: 'F' as never }));
    expect(res.status).toBe(201);
    expect(lines.some((l) => l.includes('accepted a write with validation errors'))).toBe(true);
    await lenient.close();
  });
});

describe('published conformance resources', () => {
  it('are readable and searchable by url, version and name', async () => {
    const byUrl = (await (await t.fhir('GET', `StructureDefinition?url=${encodeURIComponent(TRIAGE)}`)).json()) as Bundle;
    expect(byUrl.total).toBe(1);
    expect(byUrl.entry?.[0].resource).toMatchObject({ resourceType: 'StructureDefinition', url: TRIAGE });
    const byName = (await (await t.fhir('GET', 'StructureDefinition?name=StepwiseTriageTask&version=0.1.0')).json()) as Bundle;
    expect(byName.total).toBe(1);
    const valueSets = (await (await t.fhir('GET', `ValueSet?url:below=${STEPWISE_CANONICAL_BASE}/&_count=100`)).json()) as Bundle;
    expect(valueSets.total).toBeGreaterThanOrEqual(5);
  });

  it('are seeded idempotently: a second start changes nothing', async () => {
    expect(await upsertAll(t.store, loadStepwiseConformance())).toEqual({ changed: 0 });
  });
});

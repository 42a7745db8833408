import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { patient } from '../support/builders.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * Issue 15: where the HL7 validator is the reference. An unknown meta.profile (warned about, the
 * rest checked; writes per UNKNOWN_PROFILE) and Parameters/$validate
 * (http://hl7.org/fhir/R4/resource-operation-validate.html).
 */

const UK_CORE_PATIENT = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient-not-loaded';

let t: TestApp;
let strict: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  strict = await startTestApp(undefined, { unknownProfile: 'reject' });
});
afterAll(async () => {
  await t.close();
  await strict.close();
});

const validate = async (app: TestApp, path: string, body: unknown, query = '') => {
  const res = await app.fhir('POST', `${path}/$validate${query}`, body);
  return { status: res.status, oo: (await res.json()) as OperationOutcome };
};
const bySeverity = (oo: OperationOutcome, severity: string) => oo.issue.filter((i) => i.severity === severity);
const claiming = (extra: Record<string, unknown> = {}) => ({ ...patient(), meta: { profile: [UK_CORE_PATIENT] }, ...extra });

describe('a meta.profile the server does not know', () => {
  it('is a warning from $validate, and the resource is still checked against R4', async () => {
    const { status, oo } = await validate(t, 'Patient', claiming({ gender: 'F' }));
    expect(status).toBe(200);
    expect(bySeverity(oo, 'warning')).toEqual([expect.objectContaining({ code: 'not-found', expression: ['Patient.meta.profile[0]'] })]);
    expect(bySeverity(oo, 'warning')[0].diagnostics).toContain(UK_CORE_PATIENT);
    expect(bySeverity(oo, 'error').map((i) => i.expression?.[0])).toEqual(['Patient.gender']);
  });

  it('is a warning from $validate even when writes reject it', async () => {
    const { oo } = await validate(strict, 'Patient', claiming());
    expect(bySeverity(oo, 'error')).toEqual([]);
    expect(bySeverity(oo, 'warning')).toHaveLength(1);
  });

  it('is accepted on write by default (UNKNOWN_PROFILE=warn): a sender claiming UK Core is not refused for it', async () => {
    expect((await t.fhir('POST', 'Patient', claiming())).status).toBe(201);
  });

  it('is refused on write with UNKNOWN_PROFILE=reject, naming the profile', async () => {
    const res = await strict.fhir('POST', 'Patient', claiming());
    expect(res.status).toBe(422);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue).toEqual([expect.objectContaining({ severity: 'error', code: 'not-found', expression: ['Patient.meta.profile[0]'] })]);
    expect(oo.issue[0].diagnostics).toContain(UK_CORE_PATIENT);
  });

  it('is read from UNKNOWN_PROFILE, warn by default, and a bad value stops start-up', () => {
    expect(loadConfig({}).unknownProfile).toBe('warn');
    expect(loadConfig({ UNKNOWN_PROFILE: 'reject' }).unknownProfile).toBe('reject');
    expect(() => loadConfig({ UNKNOWN_PROFILE: 'error' })).toThrow(/UNKNOWN_PROFILE: .*\(got "error"\)/);
  });
});

describe('Parameters/$validate', () => {
  const raw = (parameter: unknown[]) => ({ resourceType: 'Parameters', parameter });

  it('validates a Parameters body that is not the operation input as the resource itself', async () => {
    const valid = await validate(t, 'Parameters', raw([{ name: 'count', valueInteger: 3 }]));
    expect(valid.status).toBe(200);
    expect(bySeverity(valid.oo, 'error')).toEqual([]);
    // prm-1: a parameter has a value, a resource or parts, not a value and a resource
    const invalid = await validate(t, 'Parameters', raw([{ name: 'count', valueInteger: 3, resource: patient() }]));
    expect(bySeverity(invalid.oo, 'error').map((i) => i.expression?.[0])).toEqual(['Parameters.parameter[0]']);
  });

  it('validates a Parameters passed in the resource parameter', async () => {
    const inner = raw([{ name: 'count', valueInteger: 3, resource: patient() }]);
    const { status, oo } = await validate(t, 'Parameters', raw([{ name: 'resource', resource: inner }]));
    expect(status).toBe(200);
    expect(bySeverity(oo, 'error').map((i) => i.expression?.[0])).toEqual(['Parameters.parameter[0]']);
    const wrapped = await validate(t, 'Parameters', raw([{ name: 'resource', resource: raw([{ name: 'ok', valueString: 'yes' }]) }, { name: 'mode', valueCode: 'create' }]));
    expect(wrapped.oo.issue).toEqual([expect.objectContaining({ severity: 'information' })]);
  });

  it('takes a body with only the operation parameters, naming a resource, as the input (which must then be a Parameters)', async () => {
    const { status, oo } = await validate(t, 'Parameters', raw([{ name: 'resource', resource: patient() }]));
    expect(status).toBe(400);
    expect(oo.issue[0].expression).toEqual(['Patient.resourceType']);
  });

  it('answers 400 at the parameter for a resource parameter without a resource, or a mode that is not a code', async () => {
    const noResource = await validate(t, 'Patient', raw([{ name: 'resource', valueString: 'Patient/1' }]));
    expect(noResource.status).toBe(400);
    expect(noResource.oo.issue[0].expression).toEqual(['Parameters.parameter[0].resource']);
    const badMode = await validate(t, 'Patient', raw([{ name: 'resource', resource: patient() }, { name: 'mode', valueString: 'create' }]));
    expect(badMode.status).toBe(400);
    expect(badMode.oo.issue[0].expression).toEqual(['Parameters.parameter[1].valueCode']);
  });
});

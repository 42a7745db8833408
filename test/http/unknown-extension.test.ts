import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { patient } from '../support/builders.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * Issue 15: an extension the server has no definition for. `$validate` answers as the HL7
 * validator does (an error: "could not be found so is not allowed here"); a write gets what
 * UNKNOWN_EXTENSION says (a warning by default, refused with `reject`).
 */

const VENDOR = 'https://gp-system.example.net/fhir/StructureDefinition/preferred-contact-time';
const UK_CORE_VERIFICATION = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus';

let t: TestApp;
let strict: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  strict = await startTestApp(undefined, { unknownExtension: 'reject' });
});
afterAll(async () => {
  await t.close();
  await strict.close();
});

const carrying = (url: string) => ({ ...patient(), extension: [{ url, valueString: 'evenings' }] });
const errorsOf = (oo: OperationOutcome) => oo.issue.filter((i) => i.severity === 'error');

describe('an extension the server has no definition for', () => {
  it('is an error from $validate, at the extension, naming it', async () => {
    const res = await t.fhir('POST', 'Patient/$validate', carrying(VENDOR));
    expect(res.status).toBe(200);
    const errors = errorsOf((await res.json()) as OperationOutcome);
    expect(errors).toEqual([expect.objectContaining({ code: 'extension', expression: ['Patient.extension[0]'] })]);
    expect(errors[0].diagnostics).toBe(`The extension ${VENDOR} could not be found so is not allowed here`);
  });

  it('is accepted on write by default (UNKNOWN_EXTENSION=warn), with a warning when asked for the outcome', async () => {
    const res = await t.fhir('POST', 'Patient', carrying(VENDOR), { Prefer: 'return=OperationOutcome' });
    expect(res.status).toBe(201);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'warning', expression: ['Patient.extension[0]'] })]));
  });

  it('is refused on write with UNKNOWN_EXTENSION=reject (422), naming the extension', async () => {
    const res = await strict.fhir('POST', 'Patient', carrying(VENDOR));
    expect(res.status).toBe(422);
    const errors = errorsOf((await res.json()) as OperationOutcome);
    expect(errors.map((i) => [i.expression?.[0], i.diagnostics])).toEqual([['Patient.extension[0]', `The extension ${VENDOR} could not be found so is not allowed here`]]);
  });

  it('a UK Core extension the server holds is not unknown, even with reject', async () => {
    const verified = {
      url: UK_CORE_VERIFICATION,
      valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland', code: '01' }] },
    };
    const withStatus = patient({ identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009', extension: [verified] }] });
    const res = await strict.fhir('POST', 'Patient', withStatus);
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
  });

  it('is read from UNKNOWN_EXTENSION, warn by default, and a bad value stops start-up', () => {
    expect(loadConfig({}).unknownExtension).toBe('warn');
    expect(loadConfig({ UNKNOWN_EXTENSION: 'reject' }).unknownExtension).toBe('reject');
    expect(() => loadConfig({ UNKNOWN_EXTENSION: 'error' })).toThrow(/UNKNOWN_EXTENSION: .*\(got "error"\)/);
  });
});

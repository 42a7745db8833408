import type { OperationOutcome, StructureDefinition } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerValidator } from '../../src/fhir/server-validator.js';
import { StoredConformance } from '../../src/pipeline/stored-conformance.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * Issue 15: "Conformance resources that are slightly off are still accepted … Refuse only what
 * cannot be used." A definition written without a name or status, or with a binding that lacks its
 * strength, is stored with those errors as warnings and used by the next request; `$validate` of the
 * same resource still calls them errors; a StructureDefinition without a url cannot be used and is refused.
 */

const URL = 'http://example.org/fhir/StructureDefinition/NoNameNeedsGender';
const noNameNoStatus = (): Partial<StructureDefinition> & { resourceType: 'StructureDefinition' } => ({
  resourceType: 'StructureDefinition',
  id: 'no-name-needs-gender',
  url: URL,
  kind: 'resource',
  abstract: false,
  type: 'Patient',
  baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
  derivation: 'constraint',
  differential: {
    element: [
      { id: 'Patient', path: 'Patient' },
      { id: 'Patient.gender', path: 'Patient.gender', min: 1 },
      { id: 'Patient.maritalStatus', path: 'Patient.maritalStatus', binding: { valueSet: 'http://hl7.org/fhir/ValueSet/marital-status' } as never },
    ],
  },
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(undefined, { validator: new StoredConformance(createServerValidator) });
});
afterAll(() => t.close());

const bySeverity = (oo: OperationOutcome, severity: string) => oo.issue.filter((i) => i.severity === severity).map((i) => i.expression?.[0]);

describe('a definition that is slightly off', () => {
  it('is stored with its flaws as warnings, and used at once', async () => {
    const res = await t.fhir('PUT', 'StructureDefinition/no-name-needs-gender', noNameNoStatus(), { Prefer: 'return=OperationOutcome' });
    expect(res.status).toBe(201);
    const oo = (await res.json()) as OperationOutcome;
    expect(bySeverity(oo, 'error')).toEqual([]);
    expect(bySeverity(oo, 'warning')).toEqual(expect.arrayContaining(['StructureDefinition.name', 'StructureDefinition.status', 'StructureDefinition.differential.element[2].binding.strength']));

    const validated = await t.fhir('POST', `Patient/$validate?profile=${encodeURIComponent(URL)}`, { resourceType: 'Patient' });
    expect(bySeverity((await validated.json()) as OperationOutcome, 'error')).toEqual(['Patient.gender']);
  });

  it('is still reported with errors by $validate', async () => {
    const res = await t.fhir('POST', 'StructureDefinition/$validate', noNameNoStatus());
    expect(bySeverity((await res.json()) as OperationOutcome, 'error')).toEqual(expect.arrayContaining(['StructureDefinition.name', 'StructureDefinition.status']));
  });

  it('without a url it cannot be used, and is refused', async () => {
    const { url: _url, ...withoutUrl } = noNameNoStatus();
    const res = await t.fhir('PUT', 'StructureDefinition/no-url', { ...withoutUrl, id: 'no-url' });
    expect(res.status).toBe(422);
    expect(bySeverity((await res.json()) as OperationOutcome, 'error')).toContain('StructureDefinition.url');
  });

  it('so is a Library without its type, and a Questionnaire using an extension outside its context', async () => {
    const library = await t.fhir('PUT', 'Library/no-type', { resourceType: 'Library', id: 'no-type', url: 'http://example.org/fhir/Library/no-type', status: 'active' });
    expect(library.status).toBe(201);
    // questionnaire-minOccurs' context invariant asks for required=true (or a minimum of 0)
    const questionnaire = {
      resourceType: 'Questionnaire',
      id: 'min-occurs',
      url: 'http://example.org/fhir/Questionnaire/min-occurs',
      status: 'active',
      item: [{ linkId: 'q1', type: 'string', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/questionnaire-minOccurs', valueInteger: 2 }] }],
    };
    const stored = await t.fhir('PUT', 'Questionnaire/min-occurs', questionnaire, { Prefer: 'return=OperationOutcome' });
    expect(stored.status).toBe(201);
    expect(bySeverity((await stored.json()) as OperationOutcome, 'warning')).toContain('Questionnaire.item[0].extension[0]');
    const validated = await t.fhir('POST', 'Questionnaire/$validate', questionnaire);
    expect(bySeverity((await validated.json()) as OperationOutcome, 'error')).toContain('Questionnaire.item[0].extension[0]');
  });

  it('an element R4 does not define is kept with a warning; a value of the wrong JSON type is refused', async () => {
    const later = noNameNoStatus();
    later.id = 'later-element';
    later.url = `${URL}-later`;
    (later.differential!.element[1] as unknown as Record<string, unknown>).minValueDuration = { value: 1, unit: 'd', system: 'http://unitsofmeasure.org', code: 'd' };
    const stored = await t.fhir('PUT', 'StructureDefinition/later-element', later, { Prefer: 'return=OperationOutcome' });
    expect(stored.status).toBe(201);
    expect(bySeverity((await stored.json()) as OperationOutcome, 'warning')).toContain('StructureDefinition.differential.element[1].minValueDuration');

    const wrongType = { ...noNameNoStatus(), id: 'wrong-type', url: `${URL}-wrong-type`, abstract: 'no' };
    expect((await t.fhir('PUT', 'StructureDefinition/wrong-type', wrongType)).status).toBe(400);
  });

  it('a resource that is not a definition is refused for the same kind of error', async () => {
    const res = await t.fhir('PUT', 'Observation/no-status', { resourceType: 'Observation', id: 'no-status', code: { text: 'mood' } });
    expect(res.status).toBe(422);
  });
});

import { describe, expect, it } from 'vitest';
import { judgeIssues } from '../../messaging/content-policy.js';
import { errors, messageAbout, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** Element ids are unique within their resource (element-ids.ts). */

const validator = createR4Validator();

describe('element ids', () => {
  it('are unique within the resource, wherever the elements are', () => {
    const patient = { resourceType: 'Patient', id: '1', identifier: [{ id: '2', value: 'x' }], name: [{ id: '2', family: 'Ng' }], maritalStatus: { coding: [{ id: '1', code: 'M' }] } };
    // the resource's own id is not an element id
    expect(summary(errors(validator.validate(patient)))).toEqual(["error Patient.name[0]: Duplicate id value '2'"]);
  });

  it('of resources inside are their own: contained resources and Bundle entries', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { id: 'e1', fullUrl: 'https://x/fhir/Patient/a', resource: { resourceType: 'Patient', id: 'a', name: [{ id: 'e1', family: 'A' }] } },
        { id: 'e1', fullUrl: 'https://x/fhir/Patient/b', resource: { resourceType: 'Patient', id: 'b', name: [{ id: 'n', family: 'B' }] } },
      ],
    };
    expect(summary(errors(validator.validate(bundle)))).toEqual(["error Bundle.entry[1]: Duplicate id value 'e1'"]);
  });

  it("not counting a StructureDefinition's element definitions, whose ids repeat in snapshot and differential", () => {
    const sd = {
      resourceType: 'StructureDefinition',
      url: 'https://example.net/fhir/StructureDefinition/p',
      name: 'P',
      status: 'draft',
      kind: 'resource',
      abstract: false,
      type: 'Patient',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
      derivation: 'constraint',
      differential: { element: [{ id: 'Patient.name', path: 'Patient.name', min: 1 }] },
    };
    expect(summary(validator.validate(sd)).filter((l) => l.includes('Duplicate'))).toEqual([]);
  });

  it('in a message, a duplicate in a content resource is a warning', () => {
    const message = messageAbout({ resourceType: 'Patient', name: [{ id: 'n', family: 'A' }, { id: 'n', family: 'B' }] });
    const verdict = judgeIssues(validator.validate(message));
    expect(verdict.refusals).toEqual([]);
    expect(verdict.warnings.map((w) => w.message)).toContain("Duplicate id value 'n'");
  });
});

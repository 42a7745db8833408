import { describe, expect, it } from 'vitest';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** ValueSet parameters (tools extension valueset-parameter) used by filter expressions (cqf-expression). */

const validator = createR4Validator();

function valueSet(language: string, expression: string) {
  return {
    resourceType: 'ValueSet',
    status: 'draft',
    extension: [{ url: 'http://hl7.org/fhir/tools/StructureDefinition/valueset-parameter', extension: [{ url: 'name', valueCode: 'p-inactive' }] }],
    compose: {
      include: [
        {
          system: 'http://snomed.info/sct',
          filter: [{ property: 'inactive', op: '=', _value: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/cqf-expression', valueExpression: { language, expression } }] } }],
        },
      ],
    },
  };
}
const WHERE = 'ValueSet.compose.include[0].filter[0].value.extension[0].valueExpression';
const errorLines = (vs: unknown) => summary(errors(validator.validate(vs)));

describe('a filter value given by an expression over value set parameters', () => {
  it('passes when it is FHIRPath over declared parameters', () => {
    expect(errorLines(valueSet('text/fhirpath', '%p-inactive'))).toEqual([]);
  });

  it('names only declared parameters', () => {
    expect(errorLines(valueSet('text/fhirpath', '%p-inactive3'))).toEqual([`error ${WHERE}: The filter parameter expression '%p-inactive3' refers to the unknown parameter 'p-inactive3'`]);
  });

  it('is FHIRPath that parses', () => {
    expect(errorLines(valueSet('text/cql', '%p-inactive'))).toEqual([`error ${WHERE}: A ValueSet expression language must be 'text/fhirpath' not 'text/cql'`]);
    expect(errorLines(valueSet('text/fhirpath', '$ and %p-inactive'))).toEqual([expect.stringMatching(new RegExp(`^error ${WHERE.replace(/[[\].]/g, '\\$&')}: The value of the expression '\\$ and %p-inactive' is not a valid FHIRPath`))]);
  });
});

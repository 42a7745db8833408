import { describe, expect, it } from 'vitest';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** CodeSystem consistency (codesystem-rules.ts) and boolean ValueSet filters (valueset-filter-rules.ts), with the HL7 validator's messages. */

const validator = createR4Validator();
const codeSystem = (extra: Record<string, unknown>) => ({ resourceType: 'CodeSystem', url: 'https://example.net/cs/test', status: 'active', content: 'complete', ...extra });
const errorLines = (resource: unknown, v = validator) => summary(errors(v.validate(resource)));
const STD = 'http://hl7.org/fhir/concept-properties#';

describe('CodeSystem content', () => {
  it('not-present has no concepts', () => {
    expect(errorLines(codeSystem({ content: 'not-present', concept: [{ code: 'a' }] }))).toEqual([
      'error CodeSystem.concept[0]: The code system says it has no content present, but concepts are found',
    ]);
  });

  it("of a supplement is 'supplement'", () => {
    expect(errorLines(codeSystem({ supplements: 'http://loinc.org', content: 'complete' }))).toEqual([
      "error CodeSystem.content: CodeSystem Supplements SHALL have a content value of 'supplement'",
    ]);
  });
});

describe('CodeSystem.property', () => {
  it('is declared once by code and once by URI; a standard URI has its type and usual code', () => {
    const cs = codeSystem({
      property: [
        { uri: `${STD}notSelectable`, code: 'notSelectable', type: 'dateTime' },
        { code: 'notSelectable', type: 'boolean' },
        { uri: `${STD}notSelectable`, code: 'not-selectable', type: 'boolean' },
        { uri: `${STD}deprecationDate`, code: 'inactive', type: 'code' },
      ],
    });
    expect(errorLines(cs)).toEqual([
      `error CodeSystem.property[0]: Wrong type 'dateTime': The URI '${STD}notSelectable' identifies a property that has the type 'boolean'`,
      "error CodeSystem.property[1]: A property is already defined with the code 'notSelectable'",
      `error CodeSystem.property[2]: A property is already defined with the URI '${STD}notSelectable'`,
      `error CodeSystem.property[3]: The URI '${STD}deprecationDate' is normally assigned the code 'deprecationDate'. Using the code 'inactive' will usually create confusion in ValueSet filters etc`,
      `error CodeSystem.property[3]: Wrong type 'code': The URI '${STD}deprecationDate' identifies a property that has the type 'dateTime'`,
    ]);
  });

  it("values on concepts have the declared type; undeclared ones are a warning", () => {
    const cs = codeSystem({
      property: [{ uri: `${STD}notSelectable`, code: 'notSelectable', type: 'boolean' }, { code: 'weight', type: 'decimal' }],
      concept: [{ code: 'a', property: [{ code: 'notSelectable', valueBoolean: true }, { code: 'weight', valueInteger: 12 }, { code: 'colour', valueString: 'red' }] }],
    });
    const issues = validator.validate(cs);
    expect(summary(issues)).toEqual([
      "error CodeSystem.concept[0].property[1]: The property 'weight' has the invalid type 'integer', when it is defined to have the type 'decimal'",
      "warning CodeSystem.concept[0].property[2]: The property 'colour' has no definition in CodeSystem.property. Many terminology tools won't know what to do with it",
    ]);
  });
});

describe('ValueSet filters on a code system we hold', () => {
  const own = createR4Validator();
  own.registry.addResource(
    codeSystem({
      url: 'https://example.net/cs/filtered',
      property: [{ uri: `${STD}notSelectable`, code: 'notSelectable', type: 'boolean' }],
      concept: [{ code: 'a' }],
    }) as never,
  );
  const filtered = (property: string, value: string) => ({
    resourceType: 'ValueSet',
    status: 'active',
    compose: { include: [{ system: 'https://example.net/cs/filtered', filter: [{ property, op: '=', value }] }] },
  });

  it("filter a boolean property by 'true' or 'false'", () => {
    expect(errorLines(filtered('notSelectable', '1'), own)).toEqual([
      "error ValueSet.compose.include[0].filter[0]: The value for a filter based on property 'notSelectable' must be either 'true' or 'false', not '1'",
    ]);
    expect(errorLines(filtered('notSelectable', 'true'), own)).toEqual([]);
  });
});

import type { Questionnaire } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { ISO_3166 } from './iso-3166.js';
import { Terminology } from './terminology.js';
import { createR4Validator } from './validator.js';

// ISO 3166-1 as the code system urn:iso:std:iso:3166 (terminologies-systems.html): alpha-2, alpha-3
// and numeric codes, and R4's value sets over it (jurisdiction, iso3166-1-2, iso3166-1-3, iso3166-1-N).

const validator = createR4Validator();
const terminology = new Terminology(validator.registry);
const concept = (code: string) => validator.registry.getCodeSystem(ISO_3166)?.concept?.find((c) => c.code === code);
const names = (code: string) => {
  const c = concept(code);
  return c ? [c.display, ...(c.designation ?? []).map((d) => d.value)] : [];
};

describe('ISO 3166-1 country codes', () => {
  it('holds each country by its alpha-2, alpha-3 and numeric code, with the same English names', () => {
    expect(terminology.codeSystemHas(ISO_3166, 'GB')).toBe(true);
    expect(terminology.codeSystemHas(ISO_3166, 'GBR')).toBe(true);
    expect(terminology.codeSystemHas(ISO_3166, '826')).toBe(true);
    expect(names('GBR')).toEqual(names('GB'));
    expect(names('826')).toEqual(names('GB'));
    expect(concept('BD')?.display).toBe('Bangladesh');
  });

  it("accepts the package's names and R4's display (iso3166-1-2) as displays", () => {
    expect(names('GB')).toEqual(expect.arrayContaining(['United Kingdom', 'UK', 'Great Britain', 'United Kingdom of Great Britain and Northern Ireland']));
    // R4 writes "Korea, Democratic People''s Republic of": the name as written is accepted too
    expect(names('KP')).toEqual(expect.arrayContaining(["Korea, Democratic People's Republic of"]));
  });

  it('holds the alpha-2 codes ISO 3166-1 leaves to users (AA, QM–QZ, XA–XZ, ZZ), not their alpha-3 or numeric forms, and is case-sensitive', () => {
    expect(['XK', 'ZZ', 'AA', 'QM', 'XX'].map((c) => terminology.codeSystemHas(ISO_3166, c))).toEqual([true, true, true, true, true]);
    expect(concept('XK')?.display).toBe('Kosovo');
    expect(concept('ZZ')?.display).toBe('User-assigned');
    expect(['XKK', '983', 'QA1', 'QL', 'gb'].map((c) => terminology.codeSystemHas(ISO_3166, c))).toEqual([false, false, false, false, false]);
  });

  it("expands R4's value sets over it: iso3166-1-2, -1-3 (regex [A-Z]{3}), -1-N (regex [0-9]{3})", () => {
    const alpha2 = terminology.expand('http://hl7.org/fhir/ValueSet/iso3166-1-2');
    const alpha3 = terminology.expand('http://hl7.org/fhir/ValueSet/iso3166-1-3');
    const numeric = terminology.expand('http://hl7.org/fhir/ValueSet/iso3166-1-N');
    expect([alpha2?.has(ISO_3166, 'GB'), alpha2?.has(ISO_3166, 'GBR')]).toEqual([true, false]);
    expect([alpha3?.has(ISO_3166, 'GBR'), alpha3?.has(ISO_3166, 'GB'), alpha3?.has(ISO_3166, 'ZZZ')]).toEqual([true, false, false]);
    expect([numeric?.has(ISO_3166, '826'), numeric?.has(ISO_3166, '999')]).toEqual([true, false]);
  });

  it('answers membership of jurisdiction: countries listed, subdivisions and M49 regions by the form of their codes', () => {
    const jurisdiction = terminology.expand('http://hl7.org/fhir/ValueSet/jurisdiction');
    expect(jurisdiction?.has(ISO_3166, 'BD')).toBe(true);
    expect(jurisdiction?.has(ISO_3166, 'UK')).toBe(false);
    expect(jurisdiction?.hasCode('AU')).toBe(true);
    expect(jurisdiction?.hasCode('GB-ENG')).toBeUndefined(); // ISO 3166-2, not enumerated
    expect(jurisdiction?.hasCode('150')).toBeUndefined(); // an M49 region, not enumerated
    expect(jurisdiction?.hasCode('Australia')).toBe(false);
  });

  it('a Coding in urn:iso:std:iso:3166 must name a code of it (datatypes.html#Coding)', () => {
    const questionnaire = (code: string): Questionnaire => ({
      resourceType: 'Questionnaire',
      status: 'draft',
      jurisdiction: [{ coding: [{ system: ISO_3166, code }] }],
    });
    const errors = (code: string) => validator.validate(questionnaire(code)).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
    expect(errors('GB')).toEqual([]);
    expect(errors('UK')).toEqual(["Questionnaire.jurisdiction[0].coding[0].code: Code 'UK' is not defined in code system urn:iso:std:iso:3166"]);
    expect(errors('ZZ')).toEqual([]);
  });
});

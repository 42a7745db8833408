import type { Library, Measure } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { cqlNames } from './cql-library.js';
import { parseReference } from './measure-criteria.js';
import { createR4Validator } from './validator.js';

// A Measure's CQL criteria name definitions of its Library (measure.html, library.html): the
// definition must exist in the Library's compiled ELM or its CQL text, as the HL7 validator's
// MeasureValidator checks them ("The function … does not exist in the library …").

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const LIB = 'https://stepwise.example/fhir/Library/referral-waits';

const CQL = `library ReferralWaits version '1.0.0'
using FHIR version '4.0.1'
context Patient
// define "Commented Out": true
define "Initial Population":
  exists [ServiceRequest] S where S.status = 'active'
define Denominator: true
define private "Waiting \\"Long\\"":
  'define "Not A Definition": true' = 'x'
/* define Hidden: false */
define function "Days Waited"(start DateTime): days between start and Now()
`;

const ELM = `<?xml version="1.0" encoding="UTF-8"?>
<library xmlns="urn:hl7-org:elm:r1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <identifier id="ReferralWaits" version="1.0.0"/>
  <statements>
    <def name="Patient" context="Patient"><expression xsi:type="SingletonFrom"/></def>
    <def name="Initial Population" context="Patient" accessLevel="Public"><expression xsi:type="Exists"/></def>
  </statements>
</library>`;

function library(name: string, content: Library['content'], url = LIB): Library {
  return { resourceType: 'Library', url, name, status: 'active', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/library-type', code: 'logic-library' }] }, content };
}

function measure(library: string[] | undefined, criteria: { language: string; expression: string }, where: 'population' | 'stratifier' = 'stratifier'): Measure {
  const group = where === 'population' ? { population: [{ criteria }] } : { stratifier: [{ code: { text: 'age' }, criteria }] };
  return { resourceType: 'Measure', url: 'https://stepwise.example/fhir/Measure/waits', status: 'active', library, group: [group] } as Measure;
}

function issuesWith(libraries: Library[], m: Measure) {
  const validator = createR4Validator();
  for (const l of libraries) validator.registry.addResource(l);
  return validator.validate(m).filter((i) => /librar|function|expression/i.test(i.diagnostics ?? ''));
}
const errors = (libraries: Library[], m: Measure) => issuesWith(libraries, m).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

const cqlOnly = library('ReferralWaits', [{ contentType: 'text/cql', data: base64(CQL) }]);
const elmAndCql = library('ReferralWaits', [
  { contentType: 'text/cql', data: base64(CQL) },
  { contentType: 'application/elm+xml', data: base64(ELM) },
]);

describe('the definitions a CQL library declares (cql.g4)', () => {
  it('reads define statements, functions and contexts, with quoted names and escapes, skipping comments and strings', () => {
    expect([...cqlNames(CQL)].sort()).toEqual(['Days Waited', 'Denominator', 'Initial Population', 'Patient', 'Waiting "Long"']);
  });

  it('reads `delimited` names and fluent functions', () => {
    expect([...cqlNames('define `Seen`: true\ndefine public fluent function toDays(q Quantity): q')].sort()).toEqual(['Seen', 'toDays']);
  });
});

describe('how a criteria expression names a definition', () => {
  it('splits a library qualifier from the name', () => {
    expect(parseReference('Waits."Initial Population"', false)).toEqual({ library: 'Waits', name: 'Initial Population' });
    expect(parseReference('"Initial Population"', false)).toEqual({ name: 'Initial Population' });
    expect(parseReference('Initial Population', false)).toEqual({ name: 'Initial Population' });
    expect(parseReference('Waits.Denominator', true)).toEqual({ library: 'Waits', name: 'Denominator' });
  });

  it('leaves CQL logic in text/cql unread', () => {
    expect(parseReference('Count([Device: "Ventilators"])', true)).toBeUndefined();
    expect(parseReference("AgeInYears() >= 18", true)).toBeUndefined();
  });
});

describe('Measure criteria against the Library they name', () => {
  it('accepts criteria naming a definition of the library, qualified or not, in CQL text or in ELM', () => {
    for (const lib of [cqlOnly, elmAndCql]) {
      expect(errors([lib], measure([LIB], { language: 'text/cql', expression: 'Initial Population' }))).toEqual([]);
      expect(errors([lib], measure([LIB], { language: 'text/cql-identifier', expression: 'ReferralWaits."Initial Population"' }))).toEqual([]);
    }
    expect(errors([cqlOnly], measure([LIB], { language: 'text/cql', expression: 'ReferralWaits."Days Waited"' }))).toEqual([]);
  });

  it('refuses a name the library does not define, in a stratifier and in a population', () => {
    expect(errors([cqlOnly], measure([LIB], { language: 'text/cql', expression: 'ReferralWaits.AgesUpToNine' }))).toEqual([
      `Measure.group[0].stratifier[0].criteria: The function AgesUpToNine does not exist in the library ${LIB}`,
    ]);
    expect(errors([cqlOnly], measure([LIB], { language: 'text/cql-identifier', expression: 'Numerator' }, 'population'))).toEqual([
      `Measure.group[0].population[0].criteria: The function Numerator does not exist in the library ${LIB}`,
    ]);
  });

  it('reads the compiled ELM when there is one, as the HL7 validator does', () => {
    // "Denominator" is in the CQL text but not in this (stale) ELM
    expect(errors([elmAndCql], measure([LIB], { language: 'text/cql', expression: 'Denominator' }))).toHaveLength(1);
  });

  it('reads ELM in JSON and ELM written with a namespace prefix', () => {
    const json = JSON.stringify({ library: { statements: { def: [{ name: 'Patient' }, { name: 'Initial Population' }] } } });
    const prefixed = '<elm:library xmlns:elm="urn:hl7-org:elm:r1"><elm:statements><elm:def name="Initial Population"/></elm:statements></elm:library>';
    for (const content of [{ contentType: 'application/elm+json', data: base64(json) }, { contentType: 'application/elm+xml', data: base64(prefixed) }]) {
      const lib = library('ReferralWaits', [content]);
      expect(errors([lib], measure([LIB], { language: 'text/cql', expression: 'Initial Population' }))).toEqual([]);
      expect(errors([lib], measure([LIB], { language: 'text/cql', expression: 'Denominator' }))).toHaveLength(1);
    }
  });

  it('refuses a cql-identifier qualified by the name of no library the Measure holds', () => {
    expect(errors([cqlOnly], measure([LIB], { language: 'text/cql-identifier', expression: 'Other.Denominator' }))).toEqual([
      'Measure.group[0].stratifier[0].criteria: No matching Library found for the namespace Other',
    ]);
    // in text/cql, Patient.gender may be a path, not a library's name
    expect(errors([cqlOnly], measure([LIB], { language: 'text/cql', expression: 'Patient.gender' }))).toEqual([]);
  });

  it('says nothing about names when a library is not held, and only informs that it is unknown', () => {
    const issues = issuesWith([], measure([LIB], { language: 'text/cql', expression: 'AgesUpToNine' }));
    expect(issues.map((i) => i.severity)).toEqual(['information']);
    // an unqualified name may be in the library that is not held
    expect(errors([cqlOnly], measure([LIB, 'https://stepwise.example/fhir/Library/other'], { language: 'text/cql', expression: 'AgesUpToNine' }))).toEqual([]);
  });

  it('warns, never refuses, when the library content cannot be read', () => {
    const byUrl = library('ReferralWaits', [{ contentType: 'text/cql', url: 'https://stepwise.example/cql/waits.cql' }]);
    const broken = library('ReferralWaits', [{ contentType: 'text/cql', data: base64('define "Unclosed: true') }]);
    for (const lib of [byUrl, broken]) {
      const issues = issuesWith([lib], measure([LIB], { language: 'text/cql', expression: 'AgesUpToNine' }));
      expect(issues.map((i) => i.severity)).toEqual(['warning']);
    }
  });

  it('does not read other expression languages', () => {
    expect(errors([cqlOnly], measure([LIB], { language: 'text/fhirpath', expression: 'Patient.gender' }))).toEqual([]);
  });
});

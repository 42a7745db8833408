import { describe, expect, it } from 'vitest';
import { constraintProfile } from './test-support.js';
import { createR4Validator } from './validator.js';

// A profile's control of a Narrative's language sections and of the labelling of its sources
// (narrative-language-control, narrative-source-control; the HL7 validator's "Rules about Narrative").

const validator = createR4Validator();
function narrativeProfile(name: string, extension: Array<{ url: string; valueCode: string }>): string {
  const sd = constraintProfile(name, 'Patient', [{ id: 'Patient.text', path: 'Patient.text', extension }]);
  validator.registry.addStructureDefinition(sd);
  return sd.url as string;
}
const language = (valueCode: string) => ({ url: 'http://hl7.org/fhir/StructureDefinition/narrative-language-control', valueCode });
const NO = narrativeProfile('NoSections', [language('_no')]);
const YES = narrativeProfile('Sections', [language('_yes')]);
const OWN = narrativeProfile('OwnLanguage', [language('_resource'), language('cy')]);
const LABELLED = narrativeProfile('Labelled', [{ url: 'http://hl7.org/fhir/StructureDefinition/narrative-source-control', valueCode: 'error' }]);

const patient = (inner: string) => ({
  resourceType: 'Patient',
  language: 'en',
  text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>` },
});
const sections = '<div lang="en" xml:lang="en"><p>Hello</p></div><div lang="cy" xml:lang="cy"><p>Helo</p></div>';
const issues = (resource: unknown, url: string, severity = 'error') =>
  validator
    .validate(resource, { profiles: [url] })
    .filter((i) => i.severity === severity)
    .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

describe('narrative-language-control', () => {
  it('_no: language sections are prohibited; _yes: they are required', () => {
    expect(issues(patient('<p>Hello</p>'), NO)).toEqual([]);
    expect(issues(patient(sections), NO)).toEqual([expect.stringMatching(/^Patient.text: The xhtml has some language sections \(en, cy\), but language sections are prohibited/)]);
    expect(issues(patient(sections), YES)).toEqual([]);
    expect(issues(patient('<p>Hello</p>'), YES)).toEqual([expect.stringMatching(/^Patient.text: The xhtml has no language sections, but language sections are required/)]);
  });

  it('_resource and a language code: a section in that language is required', () => {
    expect(issues(patient(sections), OWN)).toEqual([]);
    const onlyCy = '<div lang="cy" xml:lang="cy"><p>Helo</p></div>';
    expect(issues(patient(onlyCy), OWN)).toEqual([expect.stringMatching(/requires a section in the narrative for the resource language \(en\), but it was not found \(found cy\)/)]);
    expect(issues(patient('<p>Hello</p>'), OWN)).toHaveLength(2);
  });
});

describe('narrative-source-control', () => {
  it('every text is inside an element whose class names its source, at the severity the profile gives', () => {
    expect(issues(patient('<h1 class="boilerplate">Patient</h1><p class="generated">Jones <b>Anne</b></p>'), LABELLED)).toEqual([]);
    expect(issues(patient('<h1 class="boilerplate">Patient</h1><p>Jones</p>'), LABELLED)).toEqual([
      expect.stringMatching(/^Patient.text: The xhtml node at 'Jones' does not have a class attribute to indicate its source/),
    ]);
    const warnOnly = narrativeProfile('LabelledWarning', [{ url: 'http://hl7.org/fhir/StructureDefinition/narrative-source-control', valueCode: 'warning' }]);
    expect(issues(patient('<p>Jones</p>'), warnOnly)).toEqual([]);
    expect(issues(patient('<p>Jones</p>'), warnOnly, 'warning')).toHaveLength(1);
  });
});

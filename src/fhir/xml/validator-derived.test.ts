import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../test/support/fixtures.js';
import { FhirError } from '../../errors.js';
import { formatFhirJson, parseFhirXml } from './index.js';
import { canonicalJson } from './testing/canonical.js';

/**
 * The XML cases of test/fixtures/fhir/validator-derived (see its README.md). Faults that
 * XML cannot carry into JSON, or that break FHIR XML syntax, must be refused by the parser with
 * the path; every other fault (bindings, invariants, regexes, min cardinality) is the validator's
 * business, so those documents parse and equal their JSON twins.
 */
const DIR = fixturePath('fhir', 'validator-derived');

interface Case {
  id: string;
  file: string;
  format: 'xml' | 'json';
  category: string;
}
const xmlCases = (JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Case[]).filter((c) => c.format === 'xml');

/** Case id -> [message pattern, expression or undefined for document-level errors]. */
const REFUSED: Record<string, [RegExp, string | undefined]> = {
  'Patient-xml-wrong-namespace.xml': [/^Root element <Patient> must be in the FHIR namespace .*, not http:\/\/hl7\.org\/fhir\/wrong$/, undefined],
  'Patient-xml-no-namespace.xml': [/^Root element <Patient> must be in the FHIR namespace .* \(no namespace is declared\)$/, undefined],
  'Patient-xml-malformed.xml': [/^XML is not well-formed: Element <Patient> is not closed \(line 24, column 1\)$/, undefined],
  'Patient-xml-doctype-entity.xml': [/^DOCTYPE is not allowed/, undefined],
  'Patient-json-resourceType-unknown.xml': [/^Unknown resource type 'Patientx'$/, undefined],
  'Patient-xml-out-of-order.xml': [/^Element 'name' is out of order: it must come before 'gender'/, 'Patient.name'],
  'Patient-xml-unknown-attribute.xml': [/^Unknown attribute 'foo'$/, 'Patient.gender'],
  'Patient-xml-text-content.xml': [/^Text content is not allowed here/, 'Patient.gender'],
  'Patient-xml-empty-value.xml': [/^The value attribute must not be empty$/, 'Patient.gender'],
  'Organization-empty-string-value.xml': [/^The value attribute must not be empty$/, 'Organization.telecom.value'],
  'Patient-xml-element-no-value.xml': [/^<active> has no value attribute and no extensions$/, 'Patient.active'],
  'Patient-xml-duplicate-singleton.xml': [/maximum cardinality is 1$/, 'Patient.gender'],
  'Flag-subject-repeated.xml': [/maximum cardinality is 1$/, 'Flag.subject'],
  'Encounter-class-repeated.xml': [/maximum cardinality is 1$/, 'Encounter.class'],
  'Patient-unknown-element.xml': [/^Unknown element 'favouriteColor'$/, 'Patient.favouriteColor'],
  'Patient-wrong-case-element.xml': [/^Unknown element 'birthdate'$/, 'Patient.birthdate'],
  'Flag-unknown-nested-element.xml': [/^Unknown element 'foo'$/, 'Flag.code.foo'],
  'Task-choice-wrong-suffix.xml': [/^Unknown element 'executionPeriodX'$/, 'Task.executionPeriodX'],
  'Condition-choice-type-not-allowed.xml': [/^Unknown element 'onsetBoolean'$/, 'Condition.onsetBoolean'],
  'Patient-narrative-no-xhtml-ns.xml': [/^Narrative div must be in the XHTML namespace/, 'Patient.text.div'],
  'Patient-bad-boolean-xml-yes.xml': [/^Invalid boolean: 'yes' is not a boolean/, 'Patient.active'],
  'Patient-json-integer-as-decimal.xml': [/^Invalid integer: '1\.5' is not an integer$/, 'Patient.multipleBirthInteger'],
  'Patient-integer-out-of-range.xml': [/^Invalid integer: 3000000000 is out of range/, 'Patient.multipleBirthInteger'],
};

const accepted = xmlCases.filter((c) => !(c.id in REFUSED));

describe('validator-derived XML cases', () => {
  it('knows every refused case id, and has accepted cases of every kind', () => {
    const ids = new Set(xmlCases.map((c) => c.id));
    expect(Object.keys(REFUSED).filter((id) => !ids.has(id))).toEqual([]);
    expect(xmlCases).toHaveLength(73);
    expect(accepted).toHaveLength(xmlCases.length - Object.keys(REFUSED).length);
    expect(new Set(accepted.map((c) => c.category))).toEqual(new Set(['control', 'cardinality', 'binding', 'datatype', 'invariant', 'reference']));
  });

  it.each(Object.entries(REFUSED))('refuses %s', (id, [message, expression]) => {
    const xml = readFileSync(join(DIR, 'xml', id), 'utf8');
    let error: unknown;
    try {
      parseFhirXml(xml);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FhirError);
    const err = error as FhirError;
    expect(err.code).toBe('INVALID');
    expect(err.message).toMatch(message);
    expect(err.issues[0].expression).toEqual(expression === undefined ? undefined : [expression]);
  });

  it.each(accepted.map((c) => [c.id, c] as const))('parses %s like its JSON twin', (_, c) => {
    const resource = parseFhirXml(readFileSync(join(DIR, c.file), 'utf8'));
    const twin = join(DIR, 'json', c.file.slice('xml/'.length).replace(/\.xml$/, '.json'));
    expect(existsSync(twin)).toBe(true);
    expect(canonicalJson(formatFhirJson(resource))).toEqual(canonicalJson(readFileSync(twin, 'utf8')));
  });
});

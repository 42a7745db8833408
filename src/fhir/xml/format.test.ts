import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FhirError } from '../../errors.js';
import { formatFhirXml, parseFhirJson, parseFhirXml } from './index.js';

const NS = 'xmlns="http://hl7.org/fhir"';
const XHTML = 'http://www.w3.org/1999/xhtml';

function refusal(resource: unknown): { message: string; expression: string[] | undefined } {
  try {
    formatFhirXml(resource as Resource);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).code).toBe('INVALID');
    return { message: (err as FhirError).message, expression: (err as FhirError).issues[0].expression };
  }
  throw new Error('expected formatFhirXml to refuse the resource');
}

describe('formatFhirXml', () => {
  it('writes elements in definition order whatever the JSON property order', () => {
    const patient = { gender: 'male', name: [{ given: ['J'], family: 'D' }], active: true, id: 'p', resourceType: 'Patient' } as Resource;
    expect(formatFhirXml(patient)).toBe(
      `<Patient ${NS}><id value="p"/><active value="true"/><name><family value="D"/><given value="J"/></name><gender value="male"/></Patient>`,
    );
  });

  it('pretty-prints with two-space indentation', () => {
    const patient = { resourceType: 'Patient', active: true, name: [{ family: 'D' }] } as Resource;
    expect(formatFhirXml(patient, { pretty: true })).toBe(
      `<Patient ${NS}>\n  <active value="true"/>\n  <name>\n    <family value="D"/>\n  </name>\n</Patient>`,
    );
  });

  it('writes an element without content as an empty element', () => {
    expect(formatFhirXml({ resourceType: 'Patient' })).toBe(`<Patient ${NS}/>`);
  });

  it('escapes attribute values so that they read back unchanged', () => {
    const text = 'a & b <c> "q" \'s\' line1\nline2\ttab\r';
    const patient = { resourceType: 'Patient', name: [{ text }] } as Resource;
    const xml = formatFhirXml(patient);
    expect(xml).toContain('value="a &amp; b &lt;c&gt; &quot;q&quot; \'s\' line1&#10;line2&#9;tab&#13;"');
    expect(parseFhirXml(xml)).toEqual(patient);
  });

  it('writes unicode as characters, not references', () => {
    const patient = { resourceType: 'Patient', name: [{ family: 'Żółć 山田 😀' }] } as Resource;
    expect(formatFhirXml(patient)).toContain('<family value="Żółć 山田 😀"/>');
  });

  it('writes _name entries as id attributes and extension children, with nulls aligned', () => {
    const patient = {
      resourceType: 'Patient',
      birthDate: '1980-02-29',
      _birthDate: { id: 'bd', extension: [{ url: 'http://example.org/t', valueTime: '10:00:00' }] },
      name: [{ given: ['A', null, 'C'], _given: [null, { extension: [{ url: 'http://example.org/x', valueString: 'v' }] }, null] }],
    } as unknown as Resource;
    expect(formatFhirXml(patient)).toBe(
      `<Patient ${NS}><name><given value="A"/><given><extension url="http://example.org/x"><valueString value="v"/></extension></given>` +
        '<given value="C"/></name><birthDate id="bd" value="1980-02-29"><extension url="http://example.org/t"><valueTime value="10:00:00"/>' +
        '</extension></birthDate></Patient>',
    );
  });

  it('writes contained resources wrapped in their element, without repeating the namespace', () => {
    const patient = { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o' }], managingOrganization: { reference: '#o' } } as Resource;
    expect(formatFhirXml(patient)).toBe(
      `<Patient ${NS}><contained><Organization><id value="o"/></Organization></contained><managingOrganization><reference value="#o"/></managingOrganization></Patient>`,
    );
  });

  it('writes the narrative div verbatim', () => {
    const div = `<div xmlns="${XHTML}"><p class='x'>Grahame&#39;s &amp; <br/>\n co</p></div>`;
    const patient = { resourceType: 'Patient', text: { status: 'generated', div } } as Resource;
    expect(formatFhirXml(patient, { pretty: true })).toBe(`<Patient ${NS}>\n  <text>\n    <status value="generated"/>\n    ${div}\n  </text>\n</Patient>`);
  });

  it('writes decimals as recorded by the parsers, and edited values as numbers', () => {
    const obs = parseFhirJson('{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50}}') as unknown as {
      valueQuantity: { value: number };
    };
    expect(formatFhirXml(obs as unknown as Resource)).toContain('<value value="1.50"/>');
    obs.valueQuantity.value = 2;
    expect(formatFhirXml(obs as unknown as Resource)).toContain('<value value="2"/>');
    const copy = structuredClone(obs);
    copy.valueQuantity.value = 1.5;
    expect(formatFhirXml(copy as unknown as Resource)).toContain('<value value="1.5"/>');
  });

  it.each([
    [{ resourceType: 'Patient', foo: 1 }, "Unknown property 'foo'", 'Patient.foo'],
    [{ resourceType: 'Patient', _name: {} }, "Unknown property '_name'", 'Patient._name'],
    [{ resourceType: 'Patient', active: 'true' }, 'Invalid boolean: expected a boolean, got the string "true"', 'Patient.active'],
    [{ resourceType: 'Patient', multipleBirthInteger: 1.5 }, 'Invalid integer: expected an integer, got number 1.5', 'Patient.multipleBirthInteger'],
    [{ resourceType: 'Patient', gender: '' }, 'Invalid code: empty string', 'Patient.gender'],
    [{ resourceType: 'Patient', gender: null }, 'null is not a value: omit the property', 'Patient.gender'],
    [{ resourceType: 'Patient', gender: ['male'] }, 'Expected a single value, not an array (maximum cardinality 1)', 'Patient.gender'],
    [{ resourceType: 'Patient', name: { family: 'x' } }, 'Expected an array (the element repeats)', 'Patient.name'],
    [{ resourceType: 'Patient', name: [] }, 'Arrays must not be empty', 'Patient.name'],
    [{ resourceType: 'Patient', name: [{ given: ['a', null] }] }, 'A primitive needs a value or extensions (null on both sides)', 'Patient.name[0].given[1]'],
    [{ resourceType: 'Patient', name: [{ given: ['a'], _given: [null, null] }] }, "'given' and '_given' must have the same length", 'Patient.name[0].given'],
    [{ resourceType: 'Patient', _gender: { foo: 1 } }, "Unknown property 'foo' in '_gender'", 'Patient.gender'],
    [{ resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2020' }, 'Only one of deceased[x] may be present (deceasedBoolean, deceasedDateTime)', 'Patient.deceasedDateTime'],
    [{ resourceType: 'Patient', name: [{ text: 'a\u0001b' }] }, 'Value contains a character XML 1.0 cannot represent', 'Patient.name[0].text'],
    [{ resourceType: 'Patient', name: [{ text: 'lone \uD800 surrogate' }] }, 'Value contains a character XML 1.0 cannot represent', 'Patient.name[0].text'],
    [{ resourceType: 'Patient', extension: [{ url: '', valueString: 'x' }] }, 'Expected a non-empty string', 'Patient.extension[0].url'],
    [{ resourceType: 'Patient', contained: [{ resourceType: 'Nope' }] }, 'Unknown resource type "Nope"', 'Patient.contained[0]'],
  ])('refuses %j', (resource, message, expression) => {
    expect(refusal(resource)).toEqual({ message, expression: [expression] });
  });

  it('refuses an unknown resource type at the root', () => {
    expect(refusal({ resourceType: 'Patientx' })).toEqual({ message: 'Unknown resource type "Patientx"', expression: undefined });
  });

  it.each([
    ['<p>no div</p>', /^Narrative div must be a <div> element$/],
    ['<div><p>x</p></div>', /^Narrative div must be <div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml">$/],
    [`<div xmlns="${XHTML}"><p>x</div>`, /^Narrative div: XML is not well-formed: Expected <\/p> but found <\/div>/],
    [`<div xmlns="${XHTML}">&nbsp;</div>`, /^Narrative div: XML is not well-formed: Undeclared entity &nbsp;/],
    [`<div xmlns="${XHTML}">x</div><div xmlns="${XHTML}">y</div>`, /^Narrative div: XML is not well-formed: A document has exactly one root element/],
    [`<div xmlns="${XHTML}"><?php x?></div>`, /^Narrative div: Processing instruction <\?php is not allowed/],
  ])('refuses the narrative div %s', (div, message) => {
    const { message: actual, expression } = refusal({ resourceType: 'Patient', text: { status: 'generated', div } });
    expect(actual).toMatch(message);
    expect(expression).toEqual(['Patient.text.div']);
  });

  it('refuses nesting beyond maxDepth', () => {
    const nested = { url: 'a', extension: [{ url: 'b', extension: [{ url: 'c', valueString: 'x' }] }] };
    const patient = { resourceType: 'Patient', extension: [nested] } as Resource;
    expect(formatFhirXml(patient, { maxDepth: 4 })).toContain('<valueString value="x"/>');
    expect(() => formatFhirXml(patient, { maxDepth: 3 })).toThrow('Nesting is deeper than the limit of 3 levels');
  });
});

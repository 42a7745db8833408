import { describe, expect, it } from 'vitest';
import { FhirError } from '../../errors.js';
import { formatFhirJson, parseFhirXml } from './index.js';

const fhir = (root: string, body: string): string => `<${root} xmlns="http://hl7.org/fhir">${body}</${root}>`;

function refusal(xml: string): { message: string; expression: string[] | undefined } {
  try {
    parseFhirXml(xml);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).code).toBe('INVALID');
    return { message: (err as FhirError).message, expression: (err as FhirError).issues[0].expression };
  }
  throw new Error('expected parseFhirXml to refuse the document');
}

describe('parseFhirXml: primitives', () => {
  it('converts values to their JSON types by definition', () => {
    const xml = fhir(
      'Patient',
      '<active value="true"/><gender value="female"/><birthDate value="1980-02-29"/><multipleBirthInteger value="2"/>',
    );
    expect(parseFhirXml(xml)).toEqual({ resourceType: 'Patient', active: true, gender: 'female', birthDate: '1980-02-29', multipleBirthInteger: 2 });
  });

  it('reads decimals, positiveInt and unsignedInt as numbers', () => {
    const xml = fhir(
      'Observation',
      '<status value="final"/><code><text value="x"/></code><valueQuantity><value value="1.50"/></valueQuantity>' +
        '<component><code><text value="c"/></code><valueSampledData><origin><value value="0"/></origin><period value="10.0"/>' +
        '<dimensions value="1"/><data value="1 2"/></valueSampledData></component>',
    );
    const obs = parseFhirXml(xml) as unknown as Record<string, any>;
    expect(obs.valueQuantity.value).toBe(1.5);
    expect(obs.component[0].valueSampledData).toEqual({ origin: { value: 0 }, period: 10, dimensions: 1, data: '1 2' });
    expect(formatFhirJson(obs as never)).toContain('"value":1.50');
    expect(formatFhirJson(obs as never)).toContain('"period":10.0');
  });

  it('maps id and extensions of a primitive to the _name entry', () => {
    const xml = fhir(
      'Patient',
      '<birthDate id="bd" value="1980-02-29"><extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime">' +
        '<valueDateTime value="1980-02-29T10:00:00Z"/></extension></birthDate>',
    );
    expect(parseFhirXml(xml)).toEqual({
      resourceType: 'Patient',
      birthDate: '1980-02-29',
      _birthDate: {
        id: 'bd',
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1980-02-29T10:00:00Z' }],
      },
    });
  });

  it('aligns repeating primitives with their _name array, null where an item has none', () => {
    const xml = fhir(
      'Patient',
      '<name><given value="A"/><given id="g2"><extension url="http://example.org/x"><valueString value="no value"/></extension></given>' +
        '<given value="C"/></name>',
    );
    expect(parseFhirXml(xml)).toEqual({
      resourceType: 'Patient',
      name: [{ given: ['A', null, 'C'], _given: [null, { id: 'g2', extension: [{ url: 'http://example.org/x', valueString: 'no value' }] }, null] }],
    });
  });

  it('omits the value array when no item has a value, and pads _name when the last items have none', () => {
    const onlyIds = fhir('Patient', '<name><given id="a"/><given id="b"/></name>');
    expect(parseFhirXml(onlyIds)).toEqual({ resourceType: 'Patient', name: [{ _given: [{ id: 'a' }, { id: 'b' }] }] });
    const firstHasId = fhir('Patient', '<name><given id="a" value="A"/><given value="B"/></name>');
    expect(parseFhirXml(firstHasId)).toEqual({ resourceType: 'Patient', name: [{ given: ['A', 'B'], _given: [{ id: 'a' }, null] }] });
  });

  it('keeps single repeating items as arrays and single-valued elements as values', () => {
    const xml = fhir('Patient', '<name><family value="Doe"/><given value="Jane"/></name>');
    expect(parseFhirXml(xml)).toEqual({ resourceType: 'Patient', name: [{ family: 'Doe', given: ['Jane'] }] });
  });

  it.each([
    ['<active value="yes"/>', "Invalid boolean: 'yes' is not a boolean (true or false)", 'Patient.active'],
    ['<multipleBirthInteger value="1.5"/>', "Invalid integer: '1.5' is not an integer", 'Patient.multipleBirthInteger'],
    ['<multipleBirthInteger value="2147483648"/>', 'Invalid integer: 2147483648 is out of range for an integer (32-bit)', 'Patient.multipleBirthInteger'],
    ['<multipleBirthInteger value="007"/>', "Invalid integer: '007' is not an integer", 'Patient.multipleBirthInteger'],
    ['<gender value=""/>', 'The value attribute must not be empty', 'Patient.gender'],
    ['<gender/>', '<gender> has no value attribute and no extensions', 'Patient.gender'],
    ['<gender>male</gender>', 'Text content is not allowed here: FHIR XML carries values in the value attribute', 'Patient.gender'],
    ['<gender value="male" foo="bar"/>', "Unknown attribute 'foo'", 'Patient.gender'],
  ])('refuses %s', (body, message, expression) => {
    expect(refusal(fhir('Patient', body))).toEqual({ message, expression: [expression] });
  });

  it('refuses decimals that are not FHIR decimals', () => {
    const xml = fhir('Observation', '<status value="final"/><code><text value="x"/></code><valueQuantity><value value="1.2.3"/></valueQuantity>');
    expect(refusal(xml)).toEqual({ message: "Invalid decimal: '1.2.3' is not a decimal", expression: ['Observation.valueQuantity.value'] });
  });
});

describe('parseFhirXml: escaping and unicode', () => {
  it('decodes references and applies attribute-value normalization', () => {
    const xml = fhir('Patient', '<name><text value="a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos; line1&#10;line2&#x9;tab literal\nnewline"/></name>');
    expect(parseFhirXml(xml)).toEqual({
      resourceType: 'Patient',
      name: [{ text: `a & b <c> "q" 's' line1\nline2\ttab literal newline` }],
    });
  });

  it('keeps unicode text as is, including characters outside the BMP', () => {
    const xml = fhir('Patient', '<name><family value="Łukasz Żółć 山田 😀"/><given value="&#x1F600;"/></name>');
    expect(parseFhirXml(xml)).toEqual({ resourceType: 'Patient', name: [{ family: 'Łukasz Żółć 山田 😀', given: ['😀'] }] });
  });

  it('keeps leading and trailing spaces of values', () => {
    expect(parseFhirXml(fhir('Patient', '<name><text value="  padded "/></name>'))).toEqual({ resourceType: 'Patient', name: [{ text: '  padded ' }] });
  });

  it('drops comments', () => {
    const xml = fhir('Patient', '<!-- c1 --><active value="true"/><!-- c2 --><name><!-- c3 --><family value="x"/></name>');
    expect(parseFhirXml(xml)).toEqual({ resourceType: 'Patient', active: true, name: [{ family: 'x' }] });
  });
});

describe('parseFhirXml: structure', () => {
  it('reads choice types by their suffix', () => {
    expect(parseFhirXml(fhir('Patient', '<deceasedBoolean value="false"/>'))).toEqual({ resourceType: 'Patient', deceasedBoolean: false });
    const obs = fhir('Observation', '<status value="final"/><code><text value="x"/></code><valueQuantity><value value="5"/><unit value="mg"/></valueQuantity>');
    expect(parseFhirXml(obs)).toMatchObject({ valueQuantity: { value: 5, unit: 'mg' } });
  });

  it('reads id attributes on elements, url on extensions, and modifierExtension', () => {
    const xml = fhir(
      'Patient',
      '<id value="p1"/><modifierExtension id="m" url="http://example.org/m"><valueBoolean value="true"/></modifierExtension>' +
        '<name id="n1"><extension url="http://example.org/e"><extension url="inner"><valueCode value="c"/></extension></extension><family value="x"/></name>',
    );
    expect(parseFhirXml(xml)).toEqual({
      resourceType: 'Patient',
      id: 'p1',
      modifierExtension: [{ id: 'm', url: 'http://example.org/m', valueBoolean: true }],
      name: [{ id: 'n1', extension: [{ url: 'http://example.org/e', extension: [{ url: 'inner', valueCode: 'c' }] }], family: 'x' }],
    });
  });

  it('reads contained resources and resources in Bundle entries, outcomes and Parameters', () => {
    const bundle = fhir(
      'Bundle',
      '<type value="batch-response"/><entry><fullUrl value="urn:uuid:1"/><resource><Patient><id value="p"/>' +
        '<contained><Organization><id value="o"/><name value="Org"/></Organization></contained>' +
        '<managingOrganization><reference value="#o"/></managingOrganization></Patient></resource>' +
        '<response><status value="200"/><outcome><OperationOutcome><issue><severity value="information"/><code value="informational"/></issue>' +
        '</OperationOutcome></outcome></response></entry>',
    );
    expect(parseFhirXml(bundle)).toEqual({
      resourceType: 'Bundle',
      type: 'batch-response',
      entry: [
        {
          fullUrl: 'urn:uuid:1',
          resource: {
            resourceType: 'Patient',
            id: 'p',
            contained: [{ resourceType: 'Organization', id: 'o', name: 'Org' }],
            managingOrganization: { reference: '#o' },
          },
          response: { status: '200', outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] } },
        },
      ],
    });
    const parameters = fhir('Parameters', '<parameter><name value="r"/><resource><Basic><code><text value="b"/></code></Basic></resource></parameter>');
    expect(parseFhirXml(parameters)).toEqual({
      resourceType: 'Parameters',
      parameter: [{ name: 'r', resource: { resourceType: 'Basic', code: { text: 'b' } } }],
    });
  });

  it('keeps the narrative div verbatim as the JSON string', () => {
    const div = '<div xmlns="http://www.w3.org/1999/xhtml" class=\'c\'><p>Grahame&#39;s &amp; <b>bold</b>\n  </p><br/></div>';
    const xml = fhir('Patient', `<text><status value="generated"/>${div}</text>`);
    expect(parseFhirXml(xml)).toEqual({
      resourceType: 'Patient',
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml" class="c"><p>Grahame&#39;s &amp; <b>bold</b>\n  </p><br/></div>' },
    });
  });

  it.each([
    ['<foo value="x"/>', "Unknown element 'foo'", 'Patient.foo'],
    ['<name><foo value="x"/></name>', "Unknown element 'foo'", 'Patient.name.foo'],
    ['<deceasedString value="x"/>', "Unknown element 'deceasedString'", 'Patient.deceasedString'],
    ['<name><id value="x"/></name>', "Unknown element 'id': on elements, id is an attribute", 'Patient.name.id'],
    ['<extension><url value="x"/></extension>', "Unknown element 'url': Extension.url is an attribute", 'Patient.extension.url'],
    ['<gender value="male"/><name><family value="x"/></name>', "Element 'name' is out of order: it must come before 'gender' (FHIR XML element order is significant)", 'Patient.name'],
    ['<gender value="male"/><gender value="female"/>', "Element 'gender' occurs more than once but its maximum cardinality is 1", 'Patient.gender'],
    ['<deceasedBoolean value="true"/><deceasedDateTime value="2020"/>', 'Only one of deceased[x] may be present', 'Patient.deceasedDateTime'],
    ['<name>Jane</name>', 'Text content is not allowed here: FHIR XML carries values in the value attribute', 'Patient.name'],
    ['<contained><Resource/></contained>', "Unknown resource type 'Resource'", 'Patient.contained'],
    ['<contained><Patient/><Patient/></contained>', 'Exactly one resource is allowed here', 'Patient.contained'],
    ['<contained/>', 'A resource element is expected here', 'Patient.contained'],
    ['<text><status value="generated"/><div><p>x</p></div></text>', 'Narrative div must be in the XHTML namespace http://www.w3.org/1999/xhtml', 'Patient.text.div'],
    ['<active xmlns="urn:other" value="true"/>', 'Element <active> is not in the FHIR namespace (urn:other)', 'Patient.active'],
  ])('refuses %s', (body, message, expression) => {
    expect(refusal(fhir('Patient', body))).toEqual({ message, expression: [expression] });
  });

  it('refuses unknown and abstract resource types at the root', () => {
    expect(refusal(fhir('Patientx', '')).message).toBe("Unknown resource type 'Patientx'");
    expect(refusal(fhir('DomainResource', '')).message).toBe("Unknown resource type 'DomainResource'");
  });
});

describe('parseFhirXml: namespaces', () => {
  it('accepts a prefixed FHIR namespace and ignores xsi:schemaLocation', () => {
    const xml =
      '<f:Patient xmlns:f="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
      'xsi:schemaLocation="http://hl7.org/fhir ../../schema/patient.xsd"><f:active value="true"/></f:Patient>';
    expect(parseFhirXml(xml)).toEqual({ resourceType: 'Patient', active: true });
  });

  it('refuses a root without the FHIR namespace, or in another one', () => {
    expect(refusal('<Patient/>').message).toBe('Root element <Patient> must be in the FHIR namespace http://hl7.org/fhir (no namespace is declared)');
    expect(refusal('<Patient xmlns="http://hl7.org/fhir/wrong"/>').message).toBe(
      'Root element <Patient> must be in the FHIR namespace http://hl7.org/fhir, not http://hl7.org/fhir/wrong',
    );
  });

  it('refuses attributes in other namespaces', () => {
    const xml = '<Patient xmlns="http://hl7.org/fhir" xmlns:x="urn:x"><active x:flag="1" value="true"/></Patient>';
    expect(refusal(xml)).toEqual({ message: "Unknown attribute 'x:flag'", expression: ['Patient.active'] });
  });

  it('refuses a namespace-prefixed XHTML div, which it does not support', () => {
    const xml = fhir('Patient', '<text xmlns:h="http://www.w3.org/1999/xhtml"><status value="generated"/><h:div><h:p>x</h:p></h:div></text>');
    expect(refusal(xml).message).toMatch(/^A namespace-prefixed narrative div is not supported/);
  });
});

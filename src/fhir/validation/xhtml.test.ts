import { describe, expect, it } from 'vitest';
import { errorAt, testValidator } from './test-support.js';
import { checkNarrativeDiv } from './xhtml.js';

const NS = 'xmlns="http://www.w3.org/1999/xhtml"';
const problems = (div: string) => checkNarrativeDiv(div).map((p) => `${p.key ?? '-'}: ${p.message}`);

describe('narrative XHTML (narrative.html#xhtml)', () => {
  it('accepts basic HTML with tables, links, images and character references', () => {
    const div = `<div ${NS}><p class="x">Jane &amp; John&#160;<b>Doe</b></p><table border="1"><tr><td colspan="2">a</td></tr></table><a href="#x">x</a><img src="#i" alt="i"/><!-- note --></div>`;
    expect(problems(div)).toEqual([]);
  });

  it('requires a div in the XHTML namespace', () => {
    expect(problems('<div><p>x</p></div>')).toEqual([expect.stringMatching(/must declare the XHTML namespace/)]);
    expect(problems(`<p ${NS}>x</p>`)[0]).toMatch(/must be a <div>/);
  });

  it('rejects scripts, forms and event attributes (txt-1)', () => {
    expect(problems(`<div ${NS}><script>x()</script></div>`)).toEqual([expect.stringMatching(/^txt-1: .*<script> is not allowed/)]);
    expect(problems(`<div ${NS}><p onclick="x()">x</p></div>`)).toEqual([expect.stringMatching(/^txt-1: .*attribute onclick/)]);
    expect(problems(`<div ${NS}><a href="javascript:x()">x</a></div>`)[0]).toMatch(/^txt-1: .*javascript/);
  });

  it('requires non-whitespace content (txt-2)', () => {
    expect(problems(`<div ${NS}>  <p> </p></div>`)).toEqual([expect.stringMatching(/^txt-2:/)]);
    expect(problems(`<div ${NS}><img src="#a"/></div>`)).toEqual([]);
  });

  it('requires well-formed XML without undefined entities', () => {
    expect(problems(`<div ${NS}><p>x</div>`)[0]).toMatch(/not well-formed/);
    expect(problems(`<div ${NS}><p>a&nbsp;b</p></div>`)[0]).toMatch(/entity &nbsp;/);
    expect(problems(`<div ${NS}>a & b</div>`)[0]).toMatch(/&amp;/);
  });

  it('reports narrative problems at Narrative.div with the invariant key', () => {
    const issues = testValidator().validate({ resourceType: 'Patient', text: { status: 'generated', div: `<div ${NS}><script>x</script></div>` } });
    expect(errorAt(issues, 'Patient.text.div')?.details?.coding?.[0]?.code).toBe('txt-1');
  });
});

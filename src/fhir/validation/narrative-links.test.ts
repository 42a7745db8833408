import { describe, expect, it } from 'vitest';
import { judgeIssues } from '../../messaging/content-policy.js';
import { errors, messageAbout, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** Narrative links within the resource lead somewhere (narrative-links.ts). */

const validator = createR4Validator();
const div = (body: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${body}</div>`;
const patient = (body: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', text: { status: 'generated', div: div(body) }, ...extra });

describe('a narrative link to #fragment', () => {
  it('resolves to an anchor (id or name) in the narrative', () => {
    expect(errors(validator.validate(patient('<p id="top">Ng</p><a href="#top">up</a><a name="n1">x</a><a href="#n1">n</a>')))).toEqual([]);
  });

  it('resolves to a contained resource', () => {
    const withContained = patient('<a href="#org1">practice</a>', {
      contained: [{ resourceType: 'Organization', id: 'org1', name: 'Practice' }],
      managingOrganization: { reference: '#org1' },
    });
    expect(errors(validator.validate(withContained))).toEqual([]);
  });

  it('that leads nowhere is an error naming the link', () => {
    expect(summary(errors(validator.validate(patient('<p>See <a href="#Organization_1">the practice</a></p>'))))).toEqual([
      "error Patient.text.div: Hyperlink '#Organization_1' for 'the practice' does not resolve",
    ]);
  });

  it('resolves to an anchor in another entry of the Bundle; in a message a broken one is a warning', () => {
    const entry = (id: string, body: string) => ({ fullUrl: `https://example.net/fhir/Patient/${id}`, resource: { ...patient(body), id } });
    const collection = { resourceType: 'Bundle', type: 'collection', entry: [entry('a', '<a href="#b-anchor">b</a>'), entry('b', '<p id="b-anchor">B</p>')] };
    expect(errors(validator.validate(collection))).toEqual([]);
    const message = messageAbout(patient('<a href="#nowhere">x</a>'));
    const verdict = judgeIssues(validator.validate(message));
    expect(verdict.refusals).toEqual([]);
    expect(verdict.warnings.map((w) => w.message)).toContain("Hyperlink '#nowhere' for 'x' does not resolve");
  });
});

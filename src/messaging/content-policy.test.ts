import { describe, expect, it } from 'vitest';
import { createR4Validator } from '../fhir/validation/index.js';
import { messageAbout } from '../fhir/validation/test-support.js';
import { judgeIssues } from './content-policy.js';

/**
 * Issue 15's checks that the HL7 validator makes errors, as a message receiver judges them in a
 * content resource: what a value says (a Coding's system, an identifier's value, an attachment's
 * stated size) is named as a warning, never a refusal; the envelope must still be valid.
 */

const validator = createR4Validator();

describe('content defects found by issue 15 checks', () => {
  it.each([
    ['a relative Coding.system', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'local-codes', code: 'x' }] } }],
    ["a value set's URL as Coding.system", { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://hl7.org/fhir/ValueSet/observation-codes', code: 'x' }] } }],
    ['an identifier in urn:ietf:rfc:3986 that is not a URI', { resourceType: 'Patient', identifier: [{ system: 'urn:ietf:rfc:3986', value: '1234' }] }],
    ['an attachment whose stated size is wrong', { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'aGk=', size: 10 } }] }],
  ])('%s is a warning, not a refusal', (_, content) => {
    const verdict = judgeIssues(validator.validate(messageAbout(content)));
    expect(verdict.refusals).toEqual([]);
    expect(verdict.warnings.some((w) => w.expression?.startsWith('Bundle.entry[1].resource'))).toBe(true);
  });
});

describe('entries without a fullUrl (an error in R4: bundle-definitions.html#Bundle.entry.fullUrl)', () => {
  it('are accepted in a message, the MessageHeader included, with a warning each: the receiver identifies each resource itself', () => {
    const message = messageAbout({ resourceType: 'Patient', id: 'p1' }) as { entry: Array<{ fullUrl?: string; resource: Record<string, unknown> }> };
    for (const e of message.entry) delete e.fullUrl;
    message.entry[0].resource.focus = [{ reference: 'Patient/p1' }];
    const issues = validator.validate(message);
    expect(issues.filter((i) => i.severity === 'error').map((i) => i.expression?.[0])).toEqual(['Bundle.entry[0]', 'Bundle.entry[1]']);
    const verdict = judgeIssues(issues);
    expect(verdict.refusals).toEqual([]);
    expect(verdict.warnings.map((w) => w.expression)).toEqual(expect.arrayContaining(['Bundle.entry[0]', 'Bundle.entry[1]']));
  });
});

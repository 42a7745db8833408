import { describe, expect, it } from 'vitest';
import { createR4Validator } from '../fhir/validation/index.js';
import { judgeIssues } from './content-policy.js';

/**
 * Issue 15's checks that the HL7 validator makes errors, as a message receiver judges them in a
 * content resource: what a value says (a Coding's system, an identifier's value, an attachment's
 * stated size) is named as a warning, never a refusal; the envelope must still be valid.
 */

const validator = createR4Validator();

function message(content: Record<string, unknown>) {
  return {
    resourceType: 'Bundle',
    type: 'message',
    entry: [
      {
        fullUrl: 'urn:uuid:0f6cbb7c-43f5-4c38-9d2b-7d1b4e3b0b11',
        resource: {
          resourceType: 'MessageHeader',
          id: '0f6cbb7c-43f5-4c38-9d2b-7d1b4e3b0b11',
          eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-request' },
          source: { endpoint: 'https://sender.example.net' },
          focus: [{ reference: 'urn:uuid:5b7c1a52-3f0e-4d2a-9b1e-2a3c4d5e6f70' }],
        },
      },
      { fullUrl: 'urn:uuid:5b7c1a52-3f0e-4d2a-9b1e-2a3c4d5e6f70', resource: { id: '5b7c1a52-3f0e-4d2a-9b1e-2a3c4d5e6f70', ...content } },
    ],
  };
}

describe('content defects found by issue 15 checks', () => {
  it.each([
    ['a relative Coding.system', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'local-codes', code: 'x' }] } }],
    ["a value set's URL as Coding.system", { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://hl7.org/fhir/ValueSet/observation-codes', code: 'x' }] } }],
    ['an identifier in urn:ietf:rfc:3986 that is not a URI', { resourceType: 'Patient', identifier: [{ system: 'urn:ietf:rfc:3986', value: '1234' }] }],
    ['an attachment whose stated size is wrong', { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'aGk=', size: 10 } }] }],
  ])('%s is a warning, not a refusal', (_, content) => {
    const verdict = judgeIssues(validator.validate(message(content)));
    expect(verdict.refusals).toEqual([]);
    expect(verdict.warnings.some((w) => w.expression?.startsWith('Bundle.entry[1].resource'))).toBe(true);
  });
});

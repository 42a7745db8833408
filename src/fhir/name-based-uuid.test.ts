import { describe, expect, it } from 'vitest';
import { nameBasedUuid, stepwiseUuid } from './name-based-uuid.js';

describe('name-based UUIDs (RFC 9562 version 5)', () => {
  it("gives the RFC's own example: www.example.com in the DNS namespace", () => {
    const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
    expect(nameBasedUuid(dns, 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives the same UUID for the same name and another for another name', () => {
    expect(stepwiseUuid('triage-outcome|Task/1')).toBe(stepwiseUuid('triage-outcome|Task/1'));
    expect(stepwiseUuid('triage-outcome|Task/1')).not.toBe(stepwiseUuid('triage-outcome|Task/2'));
    expect(stepwiseUuid('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

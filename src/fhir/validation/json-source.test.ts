import { describe, expect, it } from 'vitest';
import { findDuplicateKeys, readFhirJson } from './json-source.js';

describe('readFhirJson', () => {
  it('parses valid JSON without issues', () => {
    expect(readFhirJson('{"resourceType":"Patient","name":[{"given":["a","b"]}]}')).toEqual({
      resource: { resourceType: 'Patient', name: [{ given: ['a', 'b'] }] },
      issues: [],
    });
  });

  it('reports syntax errors for the document', () => {
    const { resource, issues } = readFhirJson('{"resourceType":"Patient",}');
    expect(resource).toBeUndefined();
    expect(issues[0]).toMatchObject({ severity: 'error', expression: ['(document)'] });
  });

  it('reports duplicate keys with their path', () => {
    const text = '{"resourceType":"Patient","gender":"male","name":[{"family":"a"},{"family":"b","family":"c"}],"gender":"female"}';
    expect(findDuplicateKeys(text, 'Patient')).toEqual(['Patient.name[1].family', 'Patient.gender']);
    expect(readFhirJson(text).issues).toHaveLength(2);
  });

  it('is not confused by keys inside strings and escapes', () => {
    const text = '{"resourceType":"Basic","a":"{\\"a\\":1,\\"a\\":2}","b":[{"a":1},{"a":2}]}';
    expect(findDuplicateKeys(text, 'Basic')).toEqual([]);
  });
});

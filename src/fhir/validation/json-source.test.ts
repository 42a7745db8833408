import { describe, expect, it } from 'vitest';
import { findDuplicateKeys, readFhirJson, withoutJsonComments } from './json-source.js';

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

describe('comments in JSON', () => {
  const lineComment = '// example with comments\n{\n  "resourceType": "Patient", // the type\n  "gender": "female"\n}';
  const blockComment = '{\n  "resourceType": "Patient",\n  /* a note\n     over two lines */\n  "gender": "female"\n}';

  it('are not JSON (RFC 8259): the document is refused, saying why', () => {
    for (const text of [lineComment, blockComment]) {
      const { resource, issues } = readFhirJson(text);
      expect(resource).toBeUndefined();
      expect(issues).toMatchObject([{ severity: 'error', diagnostics: 'The document is not valid JSON: Comments are not allowed in JSON' }]);
    }
  });

  it('are skipped when allowed', () => {
    for (const text of [lineComment, blockComment]) {
      expect(readFhirJson(text, { allowComments: true })).toEqual({ resource: { resourceType: 'Patient', gender: 'female' }, issues: [] });
    }
  });

  it('are not looked for inside strings', () => {
    const text = '{"resourceType":"Basic","a":"http://x/y // not a comment","b":"/* nor this */","c":"\\"//"}';
    expect(withoutJsonComments(text)).toBe(text);
    expect(readFhirJson(text, { allowComments: true }).resource).toEqual({ resourceType: 'Basic', a: 'http://x/y // not a comment', b: '/* nor this */', c: '"//' });
  });

  it('keep line breaks, so positions stay on their line, and duplicates are still found', () => {
    expect(withoutJsonComments('{ // x\n"a": 1 /* y */ }')).toBe('{     \n"a": 1         }');
    const text = '{"resourceType":"Patient", // one\n"gender":"male",\n/* two */ "gender":"female"}';
    expect(readFhirJson(text, { allowComments: true }).issues).toMatchObject([{ expression: ['Patient.gender'] }]);
  });

  it('do not explain other syntax errors', () => {
    const { issues } = readFhirJson('{"resourceType":"Patient","url":http://x}');
    expect(issues[0].diagnostics).not.toContain('Comments');
  });
});

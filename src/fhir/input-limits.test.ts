import { describe, expect, it } from 'vitest';
import { FhirError } from '../errors.js';
import { checkInputLimits, DEFAULT_INPUT_LIMITS, type InputLimits } from './input-limits.js';

const limits: InputLimits = { maxDepth: 6, maxArrayItems: 5, maxStringLength: 20 };

function refusal(body: unknown, l: InputLimits = limits): FhirError {
  try {
    checkInputLimits(body, l);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    return err as FhirError;
  }
  throw new Error('expected the body to be refused');
}

describe('checkInputLimits', () => {
  it('accepts a body within every limit', () => {
    const patient = { resourceType: 'Patient', name: [{ family: 'Ó Briain', given: ['Zoë', 'Ann'] }], text: { div: 'tab\tand\r\nnew line' } };
    expect(() => checkInputLimits(patient, limits)).not.toThrow();
  });

  it('refuses an array longer than the limit with 413 too-costly at its path', () => {
    const err = refusal({ resourceType: 'Patient', name: [{ given: ['a', 'b', 'c', 'd', 'e', 'f'] }] });
    expect(err.status).toBe(413);
    expect(err.issues[0].code).toBe('too-costly');
    expect(err.issues[0].expression).toEqual(['Patient.name[0].given']);
    expect(err.message).toBe('Element Patient.name[0].given has 6 items; at most 5 are accepted');
  });

  it('refuses a string longer than the limit, naming the element inside a Bundle entry', () => {
    const bundle = {
      resourceType: 'Bundle',
      entry: [{}, {}, {}, { resource: { resourceType: 'Observation', note: [{ text: 'x'.repeat(21) }] } }],
    };
    const err = refusal(bundle);
    expect(err.status).toBe(413);
    expect(err.issues[0].expression).toEqual(['Bundle.entry[3].resource.note[0].text']);
  });

  it('lets base64 `data` (Attachment, Binary) be as long as the body allows', () => {
    const data = 'QUJD'.repeat(1000);
    expect(() => checkInputLimits({ resourceType: 'Binary', contentType: 'application/pdf', data }, limits)).not.toThrow();
    expect(() => checkInputLimits({ resourceType: 'DocumentReference', content: [{ attachment: { data } }] }, limits)).not.toThrow();
    expect(refusal({ resourceType: 'DocumentReference', content: [{ attachment: { url: data } }] }).issues[0].expression).toEqual(['DocumentReference.content[0].attachment.url']);
  });

  it('counts depth in element names, not array levels, and refuses one level past the limit', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 'x' : [{ extension: nest(levels - 1) }]);
    // Patient.extension[0].extension[0]…: each `extension` is one level; nest(n) holds n + 1 of them
    expect(() => checkInputLimits({ resourceType: 'Patient', extension: nest(5) }, limits)).not.toThrow(); // 6 levels
    const err = refusal({ resourceType: 'Patient', extension: nest(6) });
    expect(err.status).toBe(413);
    expect(err.issues[0].expression?.[0]).toBe(`Patient.extension${'[0].extension'.repeat(6)}`);
  });

  it('walks a nesting bomb without recursion, so it cannot overflow the stack', () => {
    let deep: unknown = {};
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    expect(refusal(deep, DEFAULT_INPUT_LIMITS).message).toMatch(/is nested 65 levels deep; at most 64 are accepted$/);
    let deepArrays: unknown = [];
    for (let i = 0; i < 200_000; i++) deepArrays = [deepArrays];
    // arrays inside arrays are no element names: only their count bounds them, and nothing overflows
    expect(() => checkInputLimits(deepArrays, DEFAULT_INPUT_LIMITS)).not.toThrow();
  });

  it('refuses NUL and other control characters FHIR strings forbid, with 400 at the path', () => {
    const err = refusal({ resourceType: 'Patient', name: [{ family: 'a\u0000b' }] });
    expect(err.status).toBe(400);
    expect(err.issues[0].expression).toEqual(['Patient.name[0].family']);
    expect(err.message).toContain('U+0000');
    expect(refusal({ resourceType: 'Patient', name: [{ given: ['ok', 'bell\u0007'] }] }).issues[0].expression).toEqual(['Patient.name[0].given[1]']);
    expect(refusal({ resourceType: 'Patient', 'x\u0000': 1 }).status).toBe(400);
  });

  it('refuses property names that reach into JavaScript prototypes', () => {
    const body = JSON.parse('{"resourceType":"Patient","name":[{"__proto__":{"admin":true}}]}');
    const err = refusal(body);
    expect(err.status).toBe(400);
    expect(err.issues[0].expression).toEqual(['Patient.name[0].__proto__']);
    expect(refusal({ resourceType: 'Patient', constructor: 1 }).status).toBe(400);
  });

  it('names paths in a JSON Patch, whose root is an array', () => {
    expect(refusal([{ op: 'add', path: '/name/0/family', value: 'y'.repeat(30) }]).issues[0].expression).toEqual(['[0].value']);
  });
});

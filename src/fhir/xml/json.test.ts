import { describe, expect, it } from 'vitest';
import { formatFhirJson, parseFhirJson } from './index.js';

describe('precision-preserving JSON', () => {
  it('parses numbers as numbers', () => {
    const obs = parseFhirJson('{"resourceType":"Observation","valueQuantity":{"value":1.50}}') as unknown as { valueQuantity: { value: number } };
    expect(obs.valueQuantity.value).toBe(1.5);
  });

  it('writes back the text of numbers that JSON.parse would shorten', () => {
    const text =
      '{"resourceType":"Observation","valueQuantity":{"value":1.50},"component":[{"valueQuantity":{"value":1e2}},' +
      '{"valueQuantity":{"value":0.1000000000000000055511151231257827}},{"valueInteger":7}],"x":[1.0,2.50,3]}';
    expect(formatFhirJson(parseFhirJson(text))).toBe(text);
  });

  it('loses nothing a plain JSON.parse would keep, and writes edited numbers as numbers', () => {
    const obs = parseFhirJson('{"resourceType":"Observation","valueQuantity":{"value":1.50}}') as unknown as { valueQuantity: { value: number } };
    obs.valueQuantity.value = 3.25;
    expect(formatFhirJson(obs as never)).toBe('{"resourceType":"Observation","valueQuantity":{"value":3.25}}');
  });

  it('pretty-prints with two spaces', () => {
    expect(formatFhirJson(parseFhirJson('{"resourceType":"Basic","x":1.0}'), { pretty: true })).toBe('{\n  "resourceType": "Basic",\n  "x": 1.0\n}');
  });

  it.each([
    ['{"resourceType":"Patient",}', /^JSON is not well-formed: /],
    ['[]', /^A FHIR resource must be a JSON object$/],
    ['"Patient"', /^A FHIR resource must be a JSON object$/],
    ['{"id":"x"}', /^The JSON object has no resourceType$/],
  ])('refuses %s', (text, message) => {
    expect(() => parseFhirJson(text)).toThrow(message);
  });
});

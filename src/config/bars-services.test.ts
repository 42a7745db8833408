import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICES, loadServices, SERVICES_ENV } from './bars-services.js';

const service = { key: 'eating-disorders', name: 'Eating disorders service', dosId: '2000088001', useCases: ['a4t3'], definitions: ['https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral'] };

describe(`hosted services (${SERVICES_ENV})`, () => {
  it('defaults to the front door, crisis line and CMHT, each with its own DoS id', () => {
    expect(loadServices({})).toBe(DEFAULT_SERVICES);
    expect(DEFAULT_SERVICES.map((s) => s.key)).toEqual(['front-door', 'crisis-line', 'cmht']);
    expect(new Set(DEFAULT_SERVICES.map((s) => s.dosId)).size).toBe(3);
  });

  it('takes a JSON array from the environment', () => {
    expect(loadServices({ [SERVICES_ENV]: JSON.stringify([service]) })).toEqual([service]);
  });

  it('a bad value names the variable and the item', () => {
    expect(() => loadServices({ [SERVICES_ENV]: '[{' })).toThrow(`${SERVICES_ENV}: not JSON`);
    expect(() => loadServices({ [SERVICES_ENV]: JSON.stringify([{ ...service, dosId: 'RV5' }]) })).toThrow(`${SERVICES_ENV}[0]["dosId"]`);
    expect(() => loadServices({ [SERVICES_ENV]: JSON.stringify([service, { ...service, key: 'other' }]) })).toThrow('two services share a DoS id');
    expect(() => loadServices({ [SERVICES_ENV]: JSON.stringify([{ ...service, definitions: ['https://example.org/md'] }]) })).toThrow(`${SERVICES_ENV}[0]["definitions"][0]`);
  });
});

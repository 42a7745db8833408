import { describe, expect, it } from 'vitest';
import { bundleInteraction, interactionOf } from './fhir-interaction.js';

describe('interactionOf', () => {
  it.each([
    ['GET', 'metadata', 'capabilities', undefined],
    ['GET', 'Patient/1', 'read', 'Patient'],
    ['HEAD', 'Patient/1', 'read', 'Patient'],
    ['GET', 'Patient/1/_history/2', 'vread', 'Patient'],
    ['GET', 'Patient/1/_history', 'history', 'Patient'],
    ['GET', 'Patient/_history', 'history', 'Patient'],
    ['GET', '_history', 'history', undefined],
    ['GET', 'Patient', 'search-type', 'Patient'],
    ['POST', 'Patient/_search', 'search-type', 'Patient'],
    ['GET', '', 'search-system', undefined],
    ['POST', 'Patient', 'create', 'Patient'],
    ['PUT', 'Patient/1', 'update', 'Patient'],
    ['PUT', 'Patient', 'update', 'Patient'],
    ['PATCH', 'Patient/1', 'patch', 'Patient'],
    ['DELETE', 'Patient/1', 'delete', 'Patient'],
    ['POST', '$process-message', 'operation', undefined],
    ['POST', 'Patient/$validate', 'operation', 'Patient'],
    ['GET', 'PlanDefinition/x/$apply', 'operation', 'PlanDefinition'],
    ['POST', '', 'bundle', undefined],
    ['POST', 'Patient/1', 'unknown', 'Patient'],
    ['GET', 'a/b/c/d/e', 'unknown', 'a'],
  ])('%s /%s is %s', (method, path, interaction, type) => {
    expect(interactionOf(method, path)).toEqual({ interaction, type });
  });
});

describe('bundleInteraction', () => {
  const bytes = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;

  it('reads the type before the entries, in JSON and XML', () => {
    expect(bundleInteraction(bytes('{"resourceType":"Bundle","type": "batch","entry":[]}'))).toBe('batch');
    expect(bundleInteraction(bytes('<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/><entry/></Bundle>'))).toBe('transaction');
  });

  it('does not take a type from inside an entry', () => {
    expect(bundleInteraction(bytes('{"resourceType":"Bundle","entry":[{"resource":{"type":"batch"}}],"type":"transaction"}'))).toBe('bundle');
    expect(bundleInteraction(bytes('not a bundle'))).toBe('bundle');
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expandCanonicalPlaceholder, stepwiseProfileUrl } from '../../src/fhir/canonical.js';
import { serverValidator } from '../../src/fhir/server-validator.js';
import { summary } from './support.js';

/**
 * bench/validation.ts times validation of bench/fixtures against the Stepwise profiles; the figures
 * mean something only while the fixtures conform to those profiles and have the sizes issue 3 names.
 */
type Json = Record<string, any>;
const fixture = (name: string): Json =>
  JSON.parse(expandCanonicalPlaceholder(readFileSync(new URL(`../../bench/fixtures/${name}`, import.meta.url), 'utf8'))) as Json;

describe('bench/fixtures', () => {
  it.each([
    ['referral-service-request.json', 'StepwiseReferral'],
    ['triage-task.json', 'StepwiseTriageTask'],
    ['referral-message-bundle.json', 'StepwiseReferralMessage'],
  ])('%s claims %s and validates with no issue', (file, profile) => {
    const resource = fixture(file);
    expect(resource.meta.profile).toEqual([stepwiseProfileUrl(profile)]);
    expect(summary(serverValidator().validate(resource))).toEqual([]);
  });

  it('are a 2-3 KB referral and a 20-entry message', () => {
    const bytes = JSON.stringify(fixture('referral-service-request.json')).length;
    expect(bytes).toBeGreaterThanOrEqual(2000);
    expect(bytes).toBeLessThanOrEqual(3000);
    const message = fixture('referral-message-bundle.json');
    expect(message.entry).toHaveLength(20);
    const types = message.entry.map((e: Json) => e.resource.resourceType);
    expect(types.slice(0, 3)).toEqual(['MessageHeader', 'ServiceRequest', 'Patient']);
  });
});

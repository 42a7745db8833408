import type { ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { BARS_CORRECTIONS, correctBarsProfile } from './bars-corrections.js';
import { barsConformanceResources, sharedBarsValidator } from './conformance.js';

const VALIDATION = 'https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-validation';
const MESSAGE_CATEGORY = 'https://fhir.nhs.uk/CodeSystem/message-category-servicerequest';
const USE_CASES = 'https://fhir.nhs.uk/CodeSystem/usecases-categories-bars';

const request = (codings: { system: string; code: string }[]): ServiceRequest => ({
  resourceType: 'ServiceRequest',
  status: 'active',
  intent: 'plan',
  category: [{ coding: codings }],
  subject: { reference: 'Patient/p1' },
  authoredOn: '2026-03-02T09:00:00Z',
});
const categoryErrors = (sr: ServiceRequest) =>
  sharedBarsValidator()
    .validate(sr, { profiles: [VALIDATION] })
    .filter((i) => i.severity === 'error' && i.expression?.[0]?.startsWith('ServiceRequest.category'));

describe('BaRS package corrections', () => {
  it('every correction names a profile the package holds, and changes it', () => {
    for (const c of BARS_CORRECTIONS) {
      const sd = barsConformanceResources().find((r) => r.resourceType === 'StructureDefinition' && (r as { url?: string }).url === c.url);
      expect(sd, c.url).toBeDefined();
      expect(correctBarsProfile(sd as never)).not.toEqual(sd);
    }
  });

  it('a validation request with its use case beside the request type is valid (as every BaRS sender sends it)', () => {
    expect(categoryErrors(request([{ system: MESSAGE_CATEGORY, code: 'validation' }, { system: USE_CASES, code: 'a4t1' }]))).toEqual([]);
  });

  it('the fixed request type still holds on its slice: a referral category under the validation profile is an error', () => {
    const issues = categoryErrors(request([{ system: MESSAGE_CATEGORY, code: 'referral' }, { system: USE_CASES, code: 'a4t1' }]));
    expect(issues.map((i) => i.diagnostics).join(' ')).toContain('validation');
  });

  it('and the slice is required: a category with only a use case is an error', () => {
    expect(categoryErrors(request([{ system: USE_CASES, code: 'a4t1' }])).length).toBeGreaterThan(0);
  });
});

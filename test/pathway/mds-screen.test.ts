import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { compileMinimumDataset, publishedMinimumDataset, screenMinimumDataset } from '../../src/pathway/mds-screen.js';
import type { ReferralContext } from '../../src/pathway/referral-context.js';
import { activeFlag, completeContext, consent, medication, NHS_NUMBER, risks } from './builders.js';

const gaps = (ctx: ReferralContext) => screenMinimumDataset(ctx).gaps.map((g) => g.code);

describe('minimum dataset screen', () => {
  it('finds no gap in a complete referral', () => {
    const screen = screenMinimumDataset(completeContext());
    expect(screen.gaps).toEqual([]);
    expect(screen.notKnown).toEqual([]);
    expect(screen.present).toHaveLength(publishedMinimumDataset().items.length);
  });

  it('publishes every item of domain.md', () => {
    expect(publishedMinimumDataset().items.map((i) => i.code)).toEqual([
      'nhs-number', 'name', 'date-of-birth', 'address', 'registered-gp', 'referrer-contact', 'reason-for-referral',
      'risk-to-self', 'risk-to-others', 'risk-from-others', 'current-medication', 'consent', 'urgency', 'communication-needs', 'carer-next-of-kin',
    ]);
  });

  const withoutRelated = (drop: string[], add: Resource[] = []): Resource[] => ([consent(), risks(), medication()] as Resource[]).filter((r) => !drop.includes(r.resourceType)).concat(add);

  // one row per item: a context lacking it, and the gap it must produce
  it.each<[string, ReferralContext]>([
    ['nhs-number', completeContext({ patient: { identifier: [] } })],
    ['name', completeContext({ patient: { name: [{ use: 'official' }] } })],
    ['date-of-birth', completeContext({ patient: { birthDate: undefined } })],
    ['address', completeContext({ patient: { address: [{ country: 'GB' }] } })],
    ['registered-gp', completeContext({ patient: { generalPractitioner: undefined } })],
    ['referrer-contact', completeContext({ requester: { telecom: [] } })],
    ['referrer-contact', completeContext({ requester: null, referral: { requester: undefined } })],
    ['reason-for-referral', completeContext({ referral: { reasonCode: undefined } })],
    ['risk-to-self', completeContext({ related: withoutRelated(['RiskAssessment'], [risks('low', ['risk-to-others', 'risk-from-others'])]) })],
    ['risk-to-others', completeContext({ related: withoutRelated(['RiskAssessment'], [risks('low', ['risk-to-self', 'risk-from-others'])]) })],
    ['risk-from-others', completeContext({ related: withoutRelated(['RiskAssessment'], [risks('low', ['risk-to-self', 'risk-to-others'])]) })],
    ['current-medication', completeContext({ related: withoutRelated(['MedicationStatement']) })],
    ['consent', completeContext({ related: withoutRelated(['Consent']) })],
    ['consent', completeContext({ related: withoutRelated(['Consent'], [consent('rejected')]) })],
    ['urgency', completeContext({ referral: { priority: undefined } })],
    ['communication-needs', completeContext({ patient: { communication: undefined } })],
  ])('names %s when it is missing', (code, ctx) => {
    expect(gaps(ctx)).toEqual([code]);
  });

  it('counts an NHS number failing Modulus 11 as missing and says why', () => {
    const screen = screenMinimumDataset(completeContext({ patient: { identifier: [{ system: NHS_NUMBER, value: '9000000001' }] } }));
    expect(screen.gaps).toEqual([
      expect.objectContaining({ code: 'nhs-number', message: 'NHS number is not valid: NHS number 9000000001 fails the Modulus 11 check: check digit is 1, expected 9' }),
    ]);
  });

  it('ignores an NHS number under another system', () => {
    expect(gaps(completeContext({ patient: { identifier: [{ system: 'urn:other', value: '9000000009' }] } }))).toEqual(['nhs-number']);
  });

  it('accepts a valid NHS number beside an invalid one', () => {
    expect(gaps(completeContext({ patient: { identifier: [{ system: NHS_NUMBER, value: '123' }, { system: NHS_NUMBER, value: '9000000009' }] } }))).toEqual([]);
  });

  it('accepts a reasonable-adjustment Flag as the statement of communication needs', () => {
    const ra = { ...activeFlag('x'), category: [{ coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/flag-categories-bars', code: 'RA' }] }] };
    expect(gaps(completeContext({ patient: { communication: undefined }, extra: [ra] }))).toEqual([]);
  });

  it('reports a missing carer or next of kin without holding the referral ("where known")', () => {
    const screen = screenMinimumDataset(completeContext({ patient: { contact: undefined } }));
    expect(screen.gaps).toEqual([]);
    expect(screen.notKnown.map((g) => g.code)).toEqual(['carer-next-of-kin']);
  });

  it('names every gap of a referral without a patient', () => {
    expect(gaps(completeContext({ patient: null }))).toEqual(['nhs-number', 'name', 'date-of-birth', 'address', 'registered-gp', 'communication-needs']);
  });

  it('refuses a dataset with a broken expression or a repeated item', () => {
    const item = { code: 'x', display: 'X', location: 'Patient', expression: 'Patient.name', required: true };
    expect(() => compileMinimumDataset({ id: 'a', url: 'u', version: '1', codeSystem: 's', items: [{ ...item, expression: 'Patient.name.where(' }] })).toThrow(/item x/);
    expect(() => compileMinimumDataset({ id: 'a', url: 'u', version: '1', codeSystem: 's', items: [item, item] })).toThrow(/twice/);
  });
});

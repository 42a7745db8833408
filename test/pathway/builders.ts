import type { Bundle, CodeableConcept, Condition, Consent, Flag, MedicationStatement, Patient, PractitionerRole, Resource, RiskAssessment, ServiceRequest } from '@medplum/fhirtypes';
import { PATHWAY } from '../../src/pathway/codes.js';
import type { ReferralContext } from '../../src/pathway/referral-context.js';

/** Referral contexts for the pathway tests: complete by default, every MDS item present. */
export const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';

export function fullPatient(overrides: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    id: 'pat-1',
    identifier: [{ system: NHS_NUMBER, value: '9000000009' }],
    name: [{ family: 'Smith', given: ['Richard'] }],
    birthDate: '1980-05-12',
    address: [{ line: ['1 High Street'], postalCode: 'LS1 1AA' }],
    generalPractitioner: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83627' } }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en-GB' }] }, preferred: true }],
    contact: [{ relationship: [{ text: 'carer' }], name: { family: 'Smith', given: ['Ann'] }, telecom: [{ system: 'phone', value: '07700 900001' }] }],
    ...overrides,
  };
}

export function gpRequester(overrides: Partial<PractitionerRole> = {}): PractitionerRole {
  return { resourceType: 'PractitionerRole', id: 'gp-role-1', telecom: [{ system: 'phone', value: '0113 496 0000' }], ...overrides };
}

export function indicator(code: string) {
  return { coding: [{ system: PATHWAY.indicator, code }] };
}

export function serviceRequest(overrides: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    id: 'sr-1',
    status: 'active',
    intent: 'order',
    priority: 'routine',
    subject: { reference: 'Patient/pat-1' },
    requester: { reference: 'PractitionerRole/gp-role-1' },
    authoredOn: '2026-03-02T08:30:00Z',
    reasonCode: [{ text: 'Low mood' }],
    ...overrides,
  };
}

export function risks(level = 'low', domains = ['risk-to-self', 'risk-to-others', 'risk-from-others']): RiskAssessment {
  return {
    resourceType: 'RiskAssessment',
    id: 'risk-1',
    status: 'final',
    subject: { reference: 'Patient/pat-1' },
    prediction: domains.map((code) => ({
      outcome: { coding: [{ system: PATHWAY.mdsItem, code }] },
      qualitativeRisk: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: level }] },
    })),
  };
}

export function medication(): MedicationStatement {
  return { resourceType: 'MedicationStatement', id: 'med-1', status: 'active', subject: { reference: 'Patient/pat-1' }, medicationCodeableConcept: { text: 'Sertraline 50mg' } };
}

export function consent(status: Consent['status'] = 'active'): Consent {
  return {
    resourceType: 'Consent',
    id: 'consent-1',
    status,
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: 'Patient/pat-1' },
  };
}

export function activeFlag(code: string, id = `flag-${code}`): Flag {
  return { resourceType: 'Flag', id, status: 'active', code: indicator(code), subject: { reference: 'Patient/pat-1' } };
}

/** A complete referral context; `related` replaces the default Consent, RiskAssessment and MedicationStatement when given. */
export function completeContext(opts: { referral?: Partial<ServiceRequest>; patient?: Partial<Patient> | null; requester?: Partial<PractitionerRole> | null; related?: Resource[]; extra?: Resource[] } = {}): ReferralContext {
  return {
    referral: serviceRequest(opts.referral),
    patient: opts.patient === null ? undefined : fullPatient(opts.patient ?? {}),
    requester: opts.requester === null ? undefined : gpRequester(opts.requester ?? {}),
    related: [...(opts.related ?? [consent(), risks(), medication()]), ...(opts.extra ?? [])],
  };
}

/** The same context as a transaction Bundle that stores it with its own ids (PUT). */
export function storeBundle(ctx: ReferralContext): Bundle {
  const all = [ctx.patient, ctx.requester, ...ctx.related, ctx.referral].filter((r): r is Resource => r !== undefined);
  return { resourceType: 'Bundle', type: 'transaction', entry: all.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })) };
}

export const SNOMED = 'http://snomed.info/sct';
export const BARS_SAFEGUARDING = 'https://fhir.nhs.uk/CodeSystem/safeguarding-codes-bars';
export const BARS_FLAG_CATEGORY = 'https://fhir.nhs.uk/CodeSystem/flag-categories-bars';

/** A SNOMED CT concept as a GP system sends it (display with its semantic tag). */
export function snomed(code: string, display: string): CodeableConcept {
  return { coding: [{ system: SNOMED, code, display }] };
}

/** A current Condition of the patient (clinicalStatus active), as a GP record carries it. */
export function condition(code: CodeableConcept, id = `cond-${code.coding?.[0]?.code}`): Condition {
  return {
    resourceType: 'Condition',
    id,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code,
    subject: { reference: 'Patient/pat-1' },
  };
}

/** A BaRS safeguarding Flag (category SG, code from safeguarding-codes-bars), as in FLA06. */
export function safeguardingFlag(code: string, display: string, id = `flag-sg-${code}`): Flag {
  return {
    resourceType: 'Flag',
    id,
    status: 'active',
    category: [{ coding: [{ system: BARS_FLAG_CATEGORY, code: 'SG', display: 'Safeguarding Concern' }] }],
    code: { coding: [{ system: BARS_SAFEGUARDING, code, display }] },
    subject: { reference: 'Patient/pat-1' },
  };
}

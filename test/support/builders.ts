import type { Organization, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';

export const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

export function patient(overrides: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    identifier: [{ system: NHS_NUMBER, value: '9000000009' }],
    name: [{ family: 'Smith', given: ['Richard'] }],
    birthDate: '1980-05-12',
    ...overrides,
  };
}

export function team(name: string, ods = 'RV5'): Organization {
  return { resourceType: 'Organization', name, identifier: [{ system: ODS, value: ods }] };
}

export function task(overrides: Partial<Task> = {}): Task {
  return { resourceType: 'Task', status: 'requested', intent: 'order', priority: 'routine', ...overrides };
}

export function referral(overrides: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    subject: { reference: 'Patient/example' },
    ...overrides,
  };
}

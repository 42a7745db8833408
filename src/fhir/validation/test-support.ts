import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ElementDefinition, OperationOutcomeIssue, StructureDefinition } from '@medplum/fhirtypes';
import { createR4Validator, type Validator } from './validator.js';

/** Shared helpers for the validation tests (not used by production code). */

const here = fileURLToPath(new URL('.', import.meta.url));
export const testProfilesDir = `${here}test-profiles/`;
export const testFixturesDir = `${here}test-fixtures/`;

export const TEST_PROFILE = {
  referral: 'https://stepwise.example/fhir/StructureDefinition/TestReferralServiceRequest',
  patient: 'https://stepwise.example/fhir/StructureDefinition/TestPatient',
  task: 'https://stepwise.example/fhir/StructureDefinition/TestTriageTask',
  message: 'https://stepwise.example/fhir/StructureDefinition/TestReferralMessage',
  referralRoute: 'https://stepwise.example/fhir/StructureDefinition/TestReferralRoute',
} as const;

/** Where the profiles the tests write themselves live. */
export const TEST_PROFILE_BASE = 'https://stepwise.example/fhir/StructureDefinition/';

/**
 * A constraint profile from a small hand-written differential, as a user would PUT it: the type's
 * root element, then `elements`. Its url is TEST_PROFILE_BASE + name.
 */
export function constraintProfile(name: string, type: string, elements: ElementDefinition[], kind: StructureDefinition['kind'] = 'resource'): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    url: TEST_PROFILE_BASE + name,
    name,
    status: 'active',
    kind,
    abstract: false,
    type,
    baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
    derivation: 'constraint',
    differential: { element: [{ id: type, path: type }, ...elements] },
  };
}

/**
 * A BaRS message Bundle whose MessageHeader has one content resource as its focus: `content`, with
 * the entry's id. For the tests of how a receiver judges what the content says.
 */
export function messageAbout(content: Record<string, unknown>) {
  return {
    resourceType: 'Bundle',
    type: 'message',
    entry: [
      {
        fullUrl: 'urn:uuid:0f6cbb7c-43f5-4c38-9d2b-7d1b4e3b0b11',
        resource: {
          resourceType: 'MessageHeader',
          id: '0f6cbb7c-43f5-4c38-9d2b-7d1b4e3b0b11',
          eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-request' },
          source: { endpoint: 'https://sender.example.net' },
          focus: [{ reference: 'urn:uuid:5b7c1a52-3f0e-4d2a-9b1e-2a3c4d5e6f70' }],
        },
      },
      { fullUrl: 'urn:uuid:5b7c1a52-3f0e-4d2a-9b1e-2a3c4d5e6f70', resource: { id: '5b7c1a52-3f0e-4d2a-9b1e-2a3c4d5e6f70', ...content } },
    ],
  };
}

let shared: Validator | undefined;

/** One validator per test file: the R4 base plus the test profiles. */
export function testValidator(): Validator {
  if (!shared) {
    shared = createR4Validator();
    loadTestProfiles(shared);
  }
  return shared;
}

export function loadTestProfiles(validator: Validator): void {
  for (const file of readdirSync(testProfilesDir)) {
    validator.registry.addResource(JSON.parse(readFileSync(testProfilesDir + file, 'utf8')));
  }
}

export function readFixture<T = Record<string, any>>(name: string): T {
  return JSON.parse(readFileSync(testFixturesDir + name, 'utf8')) as T;
}

export function errors(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  return issues.filter((i) => i.severity === 'error');
}

/** Compact "expression: message" lines, for readable assertion failures. */
export function summary(issues: OperationOutcomeIssue[]): string[] {
  return issues.map((i) => `${i.severity} ${i.expression?.[0]}: ${i.diagnostics}`);
}

export function errorAt(issues: OperationOutcomeIssue[], expression: string): OperationOutcomeIssue | undefined {
  return issues.find((i) => i.severity === 'error' && i.expression?.[0] === expression);
}

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
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

import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/** Checks a resource; returns every issue found, errors and warnings alike (none when valid). */
export interface ResourceValidator {
  validate(resource: unknown, opts?: { profiles?: string[] }): OperationOutcomeIssue[];
}

export const isError = (i: OperationOutcomeIssue): boolean => i.severity === 'error' || i.severity === 'fatal';

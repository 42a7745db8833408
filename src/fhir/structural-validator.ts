import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadR4Definitions } from './definitions.js';

/** Checks a resource before it is written; returns every issue found (none when valid). */
export interface ResourceValidator {
  validate(resource: Resource): OperationOutcomeIssue[];
}

/**
 * Structure, cardinality and datatypes, from @medplum/core's validateResource against the R4
 * StructureDefinitions. (Bindings, invariants and profiles are the validation issue's work.)
 */
export class StructuralValidator implements ResourceValidator {
  constructor() {
    loadR4Definitions();
  }

  validate(resource: Resource): OperationOutcomeIssue[] {
    try {
      return validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    } catch (err) {
      if (err instanceof OperationOutcomeError) return err.outcome.issue ?? [];
      throw err;
    }
  }
}

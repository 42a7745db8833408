import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { isError, type ResourceValidator } from '../../fhir/resource-validator.js';
import { isProfileIssue } from '../../fhir/validation/index.js';

/** What a value says about the person rather than whether it can be read (as messaging/content-policy.ts judges a message). */
const CONTENT_ISSUE_CODES = new Set<string>(['code-invalid']);
const CONTENT_RULE_KEYS = new Set<string>(['nhs-number']);

/**
 * The write pipeline's validator for partner records: "a referral is never refused for what it
 * says about the person". A record must still be valid R4 (it is stored and served again), but an
 * NHS number failing Modulus 11, a code outside its system or value set, or a profile's rule broken
 * is accepted, each given to `defect` as a warning. The partner format has already named the
 * person's defects at their place in the source.
 */
export function tolerantOfContentDefects(validator: ResourceValidator, defect: (issue: OperationOutcomeIssue) => void): ResourceValidator {
  return {
    validate(resource, opts) {
      return validator.validate(resource, opts).map((issue) => {
        if (!isError(issue) || !isContentDefect(issue)) return issue;
        const warning: OperationOutcomeIssue = { ...issue, severity: 'warning' };
        defect(warning);
        return warning;
      });
    },
    ...(validator.prepare ? { prepare: (db) => validator.prepare!(db) } : {}),
  };
}

function isContentDefect(issue: OperationOutcomeIssue): boolean {
  return isProfileIssue(issue) || CONTENT_ISSUE_CODES.has(issue.code) || CONTENT_RULE_KEYS.has(issue.details?.coding?.[0]?.code ?? '');
}

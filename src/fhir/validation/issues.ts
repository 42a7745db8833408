import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueSeverity = 'error' | 'warning' | 'information';
/** Issue types from http://hl7.org/fhir/R4/valueset-issue-type.html that the validator uses. */
export type IssueType =
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'code-invalid'
  | 'not-found'
  | 'processing'
  | 'business-rule'
  | 'not-supported'
  | 'extension'
  | 'informational';

/** Issues raised while checking a profile, as opposed to the R4 base definitions. */
const fromProfiles = new WeakSet<OperationOutcomeIssue>();

/**
 * Whether an issue was raised by a profile's own constraints rather than by the R4 base: a
 * receiver can accept content that breaks a profile (it is still valid FHIR) but not content
 * that breaks R4.
 */
export function isProfileIssue(issue: OperationOutcomeIssue): boolean {
  return fromProfiles.has(issue);
}

/** Collects issues for one validate() call. Issues are plain OperationOutcome.issue objects. */
export class IssueList {
  readonly items: OperationOutcomeIssue[] = [];
  private profileDepth = 0;

  /** Runs a profile's checks; the issues they raise are marked as profile issues. */
  underProfile(check: () => void): void {
    this.profileDepth++;
    try {
      check();
    } finally {
      this.profileDepth--;
    }
  }

  add(severity: IssueSeverity, code: IssueType, expression: string, message: string, ruleKey?: string): void {
    const issue: OperationOutcomeIssue = {
      severity,
      code,
      details: ruleKey ? { coding: [{ code: ruleKey }], text: message } : { text: message },
      diagnostics: message,
      expression: [expression],
    };
    if (this.profileDepth > 0) fromProfiles.add(issue);
    this.items.push(issue);
  }

  error(code: IssueType, expression: string, message: string, ruleKey?: string): void {
    this.add('error', code, expression, message, ruleKey);
  }

  warning(code: IssueType, expression: string, message: string, ruleKey?: string): void {
    this.add('warning', code, expression, message, ruleKey);
  }
}

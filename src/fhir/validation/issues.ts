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
  | 'not-supported';

/** Collects issues for one validate() call. Issues are plain OperationOutcome.issue objects. */
export class IssueList {
  readonly items: OperationOutcomeIssue[] = [];

  add(severity: IssueSeverity, code: IssueType, expression: string, message: string, ruleKey?: string): void {
    const issue: OperationOutcomeIssue = {
      severity,
      code,
      details: ruleKey ? { coding: [{ code: ruleKey }], text: message } : { text: message },
      diagnostics: message,
      expression: [expression],
    };
    this.items.push(issue);
  }

  error(code: IssueType, expression: string, message: string, ruleKey?: string): void {
    this.add('error', code, expression, message, ruleKey);
  }

  warning(code: IssueType, expression: string, message: string, ruleKey?: string): void {
    this.add('warning', code, expression, message, ruleKey);
  }
}

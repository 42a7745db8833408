import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * Error codes Stepwise raises. Each maps to one HTTP status in `statusByCode`, so a handler never
 * picks a status by hand. Issue codes follow http://hl7.org/fhir/R4/valueset-issue-type.html.
 */
export const FhirErrorCode = {
  INVALID: 'INVALID', // 400: malformed request or resource
  UNAUTHORIZED: 'UNAUTHORIZED', // 401
  FORBIDDEN: 'FORBIDDEN', // 403
  NOT_FOUND: 'NOT_FOUND', // 404
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED', // 405
  NOT_ACCEPTABLE: 'NOT_ACCEPTABLE', // 406
  CONFLICT: 'CONFLICT', // 409
  GONE: 'GONE', // 410
  PRECONDITION_FAILED: 'PRECONDITION_FAILED', // 412
  TOO_LARGE: 'TOO_LARGE', // 413
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE', // 415
  MISDIRECTED: 'MISDIRECTED', // 421 (RFC 9110 §15.5.20): a Host this server does not answer for
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS', // 429 (RFC 6585 §4)
  UNPROCESSABLE: 'UNPROCESSABLE', // 422: well-formed but fails validation or business rules
  NOT_SUPPORTED: 'NOT_SUPPORTED', // 501
  INTERNAL: 'INTERNAL', // 500
  UNAVAILABLE: 'UNAVAILABLE', // 503
} as const;
export type FhirErrorCode = (typeof FhirErrorCode)[keyof typeof FhirErrorCode];

export const statusByCode: Record<FhirErrorCode, number> = {
  INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  GONE: 410,
  PRECONDITION_FAILED: 412,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  MISDIRECTED: 421,
  TOO_MANY_REQUESTS: 429,
  UNPROCESSABLE: 422,
  NOT_SUPPORTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/** Default OperationOutcome.issue.code for each error code. */
const issueTypeByCode: Record<FhirErrorCode, OperationOutcomeIssue['code']> = {
  INVALID: 'invalid',
  UNAUTHORIZED: 'login',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not-found',
  METHOD_NOT_ALLOWED: 'not-supported',
  NOT_ACCEPTABLE: 'not-supported',
  CONFLICT: 'conflict',
  GONE: 'deleted',
  PRECONDITION_FAILED: 'conflict',
  TOO_LARGE: 'too-costly',
  UNSUPPORTED_MEDIA_TYPE: 'not-supported',
  MISDIRECTED: 'not-supported',
  TOO_MANY_REQUESTS: 'throttled',
  UNPROCESSABLE: 'processing',
  NOT_SUPPORTED: 'not-supported',
  INTERNAL: 'exception',
  UNAVAILABLE: 'transient',
};

export interface IssueInit {
  message: string;
  /** FHIRPath location of the problem, e.g. `Patient.birthDate`. */
  expression?: string;
  severity?: OperationOutcomeIssue['severity'];
  code?: OperationOutcomeIssue['code'];
  details?: OperationOutcomeIssue['details'];
}

/**
 * The one error type of Stepwise. Anything thrown that is not a FhirError is an internal error:
 * the HTTP layer logs its cause and answers 500, never 400.
 */
export class FhirError extends Error {
  readonly code: FhirErrorCode;
  readonly issues: OperationOutcomeIssue[];

  constructor(code: FhirErrorCode, issues: IssueInit | IssueInit[] | string, options?: { cause?: unknown }) {
    const list = typeof issues === 'string' ? [{ message: issues }] : Array.isArray(issues) ? issues : [issues];
    super(list.map((i) => i.message).join('; '), options);
    this.name = 'FhirError';
    this.code = code;
    this.issues = list.map((i) => toIssue(code, i));
  }

  get status(): number {
    return statusByCode[this.code];
  }

  /** Builds a FhirError from validation issues that already are OperationOutcome issues. */
  static fromIssues(code: FhirErrorCode, issues: OperationOutcomeIssue[]): FhirError {
    const err = new FhirError(code, issues.map((i) => ({ message: i.diagnostics ?? i.details?.text ?? 'invalid' })));
    (err as { issues: OperationOutcomeIssue[] }).issues = issues;
    return err;
  }
}

/** The same error with each issue's expressions moved by `move` (an issue without one gets `move('')`). */
export function relocate(err: FhirError, move: (expression: string) => string): FhirError {
  const issues = err.issues.map((issue) => ({ ...issue, expression: (issue.expression?.length ? issue.expression : ['']).map(move) }));
  return FhirError.fromIssues(err.code, issues);
}

/** An OperationOutcome issue from its init; the issue code defaults to the error code's own. */
export function toIssue(code: FhirErrorCode, i: IssueInit): OperationOutcomeIssue {
  const issue: OperationOutcomeIssue = {
    severity: i.severity ?? 'error',
    code: i.code ?? issueTypeByCode[code],
    details: i.details ?? { text: i.message },
    diagnostics: i.message,
  };
  if (i.details && !i.details.text) issue.details = { ...i.details, text: i.message };
  if (i.expression) issue.expression = [i.expression];
  return issue;
}

export const badRequest = (message: string, expression?: string): FhirError =>
  new FhirError(FhirErrorCode.INVALID, { message, expression });
export const notFound = (message: string): FhirError => new FhirError(FhirErrorCode.NOT_FOUND, message);

export function toOperationOutcome(err: FhirError): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: err.issues };
}

/** An informational OperationOutcome, for `Prefer: return=OperationOutcome` and batch entries. */
export function informational(message: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', diagnostics: message, details: { text: message } }],
  };
}

import type { CodeableConcept, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, type IssueInit } from '../errors.js';

/** Systems and codes of the NHS Booking and Referral Standard (uk.nhsdigital.bars.r4 1.34.0). */
export const BARS = {
  events: 'https://fhir.nhs.uk/CodeSystem/message-events-bars',
  reasons: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars',
  srCategory: 'https://fhir.nhs.uk/CodeSystem/message-category-servicerequest',
  useCases: 'https://fhir.nhs.uk/CodeSystem/usecases-categories-bars',
  flagCategories: 'https://fhir.nhs.uk/CodeSystem/flag-categories-bars',
  consentCategories: 'https://fhir.nhs.uk/CodeSystem/consent-categories-bars',
  dosServiceId: 'https://fhir.nhs.uk/Id/dos-service-id',
  dosIdCodeSystem: 'https://fhir.nhs.uk/CodeSystem/dos-id',
  contactRank: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactRank',
  nhsNumberVerification: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
  /** The retired UK Core code system that BaRS examples still use. */
  retiredVerificationSystem: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
  verificationSystem: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland',
  /** Error codes in OperationOutcome.issue.details (BaRS API, "Error handling"). */
  errorCodes: 'https://fhir.nhs.uk/CodeSystem/http-error-codes',
} as const;

export const IDENTIFIER = {
  nhsNumber: 'https://fhir.nhs.uk/Id/nhs-number',
  ods: 'https://fhir.nhs.uk/Id/ods-organization-code',
  sdsUser: 'https://fhir.nhs.uk/Id/sds-user-id',
  sdsRoleProfile: 'https://fhir.nhs.uk/Id/sds-role-profile-id',
  gmc: 'https://fhir.hl7.org.uk/Id/gmc-number',
} as const;

/**
 * The receiver's error codes of the BaRS API (booking-and-referral.yaml, 4XX-BARS and 5XX-BARS): a
 * const object and its union, so a switch over them is exhaustive.
 */
export const BarsErrorCode = {
  REC_BAD_REQUEST: 'REC_BAD_REQUEST',
  REC_UNAUTHORIZED: 'REC_UNAUTHORIZED',
  REC_NOT_FOUND: 'REC_NOT_FOUND',
  REC_METHOD_NOT_ALLOWED: 'REC_METHOD_NOT_ALLOWED',
  REC_CONFLICT: 'REC_CONFLICT',
  REC_UNPROCESSABLE_ENTITY: 'REC_UNPROCESSABLE_ENTITY',
  REC_SERVER_ERROR: 'REC_SERVER_ERROR',
  REC_NOT_IMPLEMENTED: 'REC_NOT_IMPLEMENTED',
  REC_UNAVAILABLE: 'REC_UNAVAILABLE',
} as const;
export type BarsErrorCode = (typeof BarsErrorCode)[keyof typeof BarsErrorCode];

const displayByCode: Record<BarsErrorCode, string> = {
  REC_BAD_REQUEST: '400: The Receiver has responded stating the message was malformed.',
  REC_UNAUTHORIZED: '401: The receiver deemed you unauthorized to make request.',
  REC_NOT_FOUND: '404: The Receiver could not find the target.',
  REC_METHOD_NOT_ALLOWED: '405: Receiver does not allow this.',
  REC_CONFLICT: '409: The request conflicts with the state of the Receiver.',
  REC_UNPROCESSABLE_ENTITY: '422: Message was not malformed but deemed unprocessable.',
  REC_SERVER_ERROR: '500: The receiver server has encountered an Error processing the request.',
  REC_NOT_IMPLEMENTED: '501: The Receiver did not recognize the request.',
  REC_UNAVAILABLE: '503: The Receiver was unavailable to service the request.',
};

/** The BaRS code for each Stepwise error code, so every FhirError can carry one. */
export const barsCodeByFhirCode: Record<FhirErrorCode, BarsErrorCode> = {
  INVALID: 'REC_BAD_REQUEST',
  UNAUTHORIZED: 'REC_UNAUTHORIZED',
  FORBIDDEN: 'REC_UNAUTHORIZED',
  NOT_FOUND: 'REC_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'REC_METHOD_NOT_ALLOWED',
  NOT_ACCEPTABLE: 'REC_BAD_REQUEST',
  MISDIRECTED: 'REC_BAD_REQUEST',
  CONFLICT: 'REC_CONFLICT',
  GONE: 'REC_NOT_FOUND',
  PRECONDITION_FAILED: 'REC_CONFLICT',
  TOO_LARGE: 'REC_BAD_REQUEST',
  UNSUPPORTED_MEDIA_TYPE: 'REC_BAD_REQUEST',
  // BaRS has no code for throttling; "unavailable to service the request" is what a sender should retry
  TOO_MANY_REQUESTS: 'REC_UNAVAILABLE',
  UNPROCESSABLE: 'REC_UNPROCESSABLE_ENTITY',
  NOT_SUPPORTED: 'REC_NOT_IMPLEMENTED',
  INTERNAL: 'REC_SERVER_ERROR',
  UNAVAILABLE: 'REC_UNAVAILABLE',
};

export function barsDetails(code: BarsErrorCode, text?: string): CodeableConcept {
  return { coding: [{ system: BARS.errorCodes, code, display: displayByCode[code] }], ...(text ? { text } : {}) };
}

/** An issue of a BaRS answer: the BaRS error code rides in `details`, the message in `diagnostics`. */
export function barsIssue(code: BarsErrorCode, init: IssueInit): IssueInit {
  return { ...init, details: barsDetails(code, init.message) };
}

/** A FhirError whose issues carry the BaRS code that matches its status. */
export function barsError(code: FhirErrorCode, issues: IssueInit | IssueInit[]): FhirError {
  const list = Array.isArray(issues) ? issues : [issues];
  return new FhirError(code, list.map((i) => barsIssue(barsCodeByFhirCode[code], i)));
}

/** Adds the BaRS code to every issue of an error that has none (errors raised below the BaRS layer). */
export function withBarsCodes(err: FhirError): FhirError {
  const bars = barsCodeByFhirCode[err.code];
  const issues: OperationOutcomeIssue[] = err.issues.map((i) =>
    i.details?.coding?.some((c) => c.system === BARS.errorCodes) ? i : { ...i, details: barsDetails(bars, i.details?.text ?? i.diagnostics) },
  );
  return FhirError.fromIssues(err.code, issues);
}

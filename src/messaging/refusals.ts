import { FhirErrorCode, type FhirError, type IssueInit } from '../errors.js';
import { barsError } from './bars.js';

/**
 * Every way the BaRS receiver refuses a request, in one table: the HTTP status (through the
 * FhirErrorCode), the OperationOutcome issue code and so the BaRS error code (REC_*). Sources: the
 * BaRS API (booking-and-referral.yaml, responses 4XX-BARS) and the PASSFAIL rules of NHS England's
 * BaRS receiver assurance pack (issue_code_* and issue_details_code_*), which are stricter about
 * the issue code than the API text.
 *
 * A referral is refused only for what cannot be read or routed; what it says about the person is
 * accepted with warnings (see content-policy.ts).
 */
export const REFUSAL = {
  /** Not a message Bundle, no MessageHeader, an entry without a resource. */
  unreadable: { error: FhirErrorCode.INVALID, issue: 'invalid' },
  /** A required HTTP header or query parameter is absent (X-Request-ID, context, patient:identifier, …). */
  missing: { error: FhirErrorCode.INVALID, issue: 'required' },
  /** A header, parameter or id is present but malformed (a non-UUID X-Request-ID, bad Base64, an unknown context). */
  malformed: { error: FhirErrorCode.INVALID, issue: 'value' },
  /**
   * A message rule is broken: an unknown event or reason, the MessageDefinition's cardinalities,
   * the envelope's profiles, or a BaRS workflow invariant (request type against CarePlan and
   * Encounter status, the rank-1 contact, consent for direct care).
   */
  messageRule: { error: FhirErrorCode.INVALID, issue: 'invariant' },
  /** The target names no service hosted here. */
  unknownService: { error: FhirErrorCode.NOT_FOUND, issue: 'not-found' },
  /** The service does not take this MessageDefinition or use case. */
  notAccepted: { error: FhirErrorCode.INVALID, issue: 'not-supported' },
  /** The X-Request-ID was processed before. */
  reusedRequestId: { error: FhirErrorCode.CONFLICT, issue: 'duplicate' },
  /** The Bundle.id was processed before under another X-Request-ID. */
  reusedBundleId: { error: FhirErrorCode.INVALID, issue: 'invariant' },
  /** An update based on an older version than the one held. */
  staleUpdate: { error: FhirErrorCode.CONFLICT, issue: 'conflict' },
  /** An update or cancellation of a referral not known here. */
  unknownReferral: { error: FhirErrorCode.NOT_FOUND, issue: 'not-found' },
  /** Only the sender of a referral may change it. */
  notSender: { error: FhirErrorCode.FORBIDDEN, issue: 'forbidden' },
  /** An HTTP method the endpoint does not take. */
  wrongMethod: { error: FhirErrorCode.METHOD_NOT_ALLOWED, issue: 'not-supported' },
} as const satisfies Record<string, { error: FhirErrorCode; issue: NonNullable<IssueInit['code']> }>;

export type RefusalKind = keyof typeof REFUSAL;

/** The FhirError of a refusal: every issue gets the table's issue code and BaRS error code. */
export function refuse(kind: RefusalKind, issues: Omit<IssueInit, 'code'> | Omit<IssueInit, 'code'>[]): FhirError {
  const { error, issue } = REFUSAL[kind];
  const list = Array.isArray(issues) ? issues : [issues];
  return barsError(
    error,
    list.map((i) => ({ ...i, code: issue })),
  );
}

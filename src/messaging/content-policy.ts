import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { IssueInit } from '../errors.js';
import { isProfileIssue } from '../fhir/validation/index.js';

/** What validation found in a message: what refuses it, and what it is accepted with. */
export interface Verdict {
  refusals: IssueInit[];
  warnings: IssueInit[];
}

/** R4 base issue codes about what a value says rather than whether it can be read: a code outside its system or value set. */
const CONTENT_ISSUE_CODES = new Set<string>(['code-invalid']);
/**
 * R4 base rules of the same kind, by rule key: an NHS number failing Modulus 11, an identifier in
 * urn:ietf:rfc:3986 whose value is not a URI, an attachment whose stated size is not its data's, a
 * narrative link within the message that leads nowhere, an element id used twice.
 */
const CONTENT_RULE_KEYS = new Set<string>(['nhs-number', 'identifier-uri', 'attachment-size', 'narrative-link', 'element-id']);

/**
 * Rule keys of defects accepted anywhere in a message, the MessageHeader's entry included: an entry
 * without a fullUrl (an error in R4, bundle-definitions.html#Bundle.entry.fullUrl), since the
 * receiver identifies each resource itself and finds what references name by type and id
 * (message.ts), so the message can still be read and routed.
 */
const TOLERATED_RULE_KEYS = new Set<string>(['entry-fullurl']);

const CONTENT_ENTRY = /^Bundle\.entry\[(\d+)\]\.resource(?:[.[]|$)/;
/** A content resource's own id: the receiver gives every resource its own, so the sender's is not kept. */
const ENTRY_ID = /^Bundle\.entry\[\d+\]\.resource\.id$/;

/**
 * The receiver's policy for a message's validation issues ("a referral is never refused for what
 * it says about the person; refuse only what cannot be read or routed"):
 * - the envelope, that is the Bundle itself and its MessageHeader (entry 0), must be valid: it is
 *   how the message is read and routed;
 * - a content resource must be valid R4, since it is stored and served again;
 * - but what content says may break a profile, use a code outside its system or value set, or
 *   carry an NHS number failing Modulus 11: accepted, each named as a warning at its location;
 *   so is a malformed resource id, which the receiver replaces with its own, and an entry without
 *   a fullUrl, even the MessageHeader's (TOLERATED_RULE_KEYS).
 */
export function judgeIssues(issues: OperationOutcomeIssue[]): Verdict {
  const verdict: Verdict = { refusals: [], warnings: [] };
  for (const issue of issues) {
    if (issue.severity === 'information') continue;
    const init = issueInit(issue);
    if (issue.severity === 'warning') verdict.warnings.push({ ...init, severity: 'warning' });
    else if (isContentDefect(issue) || TOLERATED_RULE_KEYS.has(issue.details?.coding?.[0]?.code ?? '')) verdict.warnings.push({ ...init, severity: 'warning' });
    else verdict.refusals.push(init);
  }
  return verdict;
}

function isContentDefect(issue: OperationOutcomeIssue): boolean {
  const entry = CONTENT_ENTRY.exec(issue.expression?.[0] ?? '');
  if (!entry || entry[1] === '0') return false;
  return isProfileIssue(issue) || ENTRY_ID.test(issue.expression![0]) || CONTENT_ISSUE_CODES.has(issue.code) || CONTENT_RULE_KEYS.has(issue.details?.coding?.[0]?.code ?? '');
}

/** A validator issue as an IssueInit: its code, first expression and message. */
export function issueInit(i: OperationOutcomeIssue): IssueInit {
  return { code: i.code, expression: i.expression?.[0], message: i.diagnostics ?? i.details?.text ?? 'invalid' };
}

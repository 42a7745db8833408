import type { IssueInit } from '../errors.js';
import { BARS, barsIssue } from './bars.js';

/** The raw request headers messaging reads; names as in the BaRS API (booking-and-referral.yaml). */
export interface RawMessageHeaders {
  requestId?: string;
  correlationId?: string;
  targetIdentifier?: string;
  requestingSoftware?: string;
  endUserOrganisation?: string;
  requestingPractitioner?: string;
  useContext?: string;
}

export type HeaderKey = keyof RawMessageHeaders;

export const HEADER_NAMES: Record<HeaderKey, string> = {
  requestId: 'X-Request-ID',
  correlationId: 'X-Correlation-ID',
  targetIdentifier: 'NHSD-Target-Identifier',
  requestingSoftware: 'NHSD-Requesting-Software',
  endUserOrganisation: 'NHSD-End-User-Organisation',
  requestingPractitioner: 'NHSD-Requesting-Practitioner',
  useContext: 'use-context',
};

export interface TargetIdentifier {
  system: string;
  value: string;
}

/** `usecase|category|event|reason`, e.g. `a4t2|validation|servicerequest-response|new`. */
export interface UseContext {
  useCase: string;
  category: string;
  event: string;
  reason: string;
}

export interface BarsHeaders {
  requestId?: string;
  correlationId?: string;
  target?: TargetIdentifier;
  requestingSoftware?: Record<string, unknown>;
  endUserOrganisation?: Record<string, unknown>;
  requestingPractitioner?: Record<string, unknown>;
  useContext?: UseContext;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The headers a BaRS $process-message request must carry (booking-and-referral.yaml, /$process-message). */
export const PROCESS_MESSAGE_REQUIRED: HeaderKey[] = ['requestId', 'targetIdentifier', 'requestingSoftware', 'endUserOrganisation', 'useContext'];

/**
 * Checks the BaRS headers: every header in `required` must be present, and every header present
 * must be well formed. Returns what it could read and one issue per problem, each naming its header
 * as `http.<name>` (http://hl7.org/fhir/R4/operationoutcome-definitions.html#OperationOutcome.issue.location).
 */
export function parseBarsHeaders(raw: RawMessageHeaders, required: HeaderKey[]): { headers: BarsHeaders; issues: IssueInit[] } {
  const issues: IssueInit[] = [];
  const headers: BarsHeaders = {};
  const problem = (key: HeaderKey, message: string, code: IssueInit['code'] = 'value') =>
    issues.push(barsIssue('REC_BAD_REQUEST', { message: `${HEADER_NAMES[key]}: ${message}`, expression: `http.${HEADER_NAMES[key]}`, code }));

  for (const key of required) {
    if (raw[key] === undefined || raw[key]!.trim() === '') problem(key, 'this header is required', 'required');
  }
  const present = (key: HeaderKey): string | undefined => (raw[key]?.trim() ? raw[key]!.trim() : undefined);

  for (const key of ['requestId', 'correlationId'] as const) {
    const v = present(key);
    if (v === undefined) continue;
    if (GUID.test(v)) headers[key] = v;
    else problem(key, `'${truncate(v)}' is not a GUID (8-4-4-4-12 hexadecimal digits)`);
  }

  const target = present('targetIdentifier');
  if (target !== undefined) {
    const obj = decodeJsonHeader(target);
    if (typeof obj === 'string') problem('targetIdentifier', obj);
    else if (typeof obj.value !== 'string' || obj.value === '' || typeof obj.system !== 'string' || obj.system === '') {
      problem('targetIdentifier', `the decoded JSON must have string properties "system" and "value" (e.g. {"system":"${BARS.dosServiceId}","value":"2000072001"})`);
    } else headers.target = { system: obj.system, value: obj.value };
  }

  for (const key of ['requestingSoftware', 'endUserOrganisation', 'requestingPractitioner'] as const) {
    const v = present(key);
    if (v === undefined) continue;
    const obj = decodeJsonHeader(v);
    if (typeof obj === 'string') problem(key, obj);
    else if (key === 'endUserOrganisation' && !hasIdentifier(obj)) problem(key, 'the decoded Organization must have an identifier with a value (its ODS code)');
    else headers[key] = obj;
  }

  const useContext = present('useContext');
  if (useContext !== undefined) {
    const parts = useContext.split('|');
    if (parts.length !== 4 || parts.some((p) => p.trim() === '')) problem('useContext', `'${truncate(useContext)}' is not usecase|category|event|reason (e.g. a1t1|referral|servicerequest-request|new)`);
    else headers.useContext = { useCase: parts[0], category: parts[1], event: parts[2], reason: parts[3] };
  }
  return { headers, issues };
}

/** Standard Base64 of a JSON object; returns the object or a sentence saying what is wrong. */
function decodeJsonHeader(value: string): Record<string, unknown> | string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return 'the value is not Base64 encoded';
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return 'the Base64 value does not decode to JSON';
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return 'the Base64 value must decode to a JSON object';
  return parsed as Record<string, unknown>;
}

function hasIdentifier(obj: Record<string, unknown>): boolean {
  const ids = obj.identifier;
  return Array.isArray(ids) && ids.some((i) => i && typeof i === 'object' && typeof (i as { value?: unknown }).value === 'string');
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Base64 JSON as the BaRS headers carry it; for senders and tests. */
export function encodeJsonHeader(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj), 'utf8').toString('base64');
}

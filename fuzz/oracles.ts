import type { FuzzRequest } from './request.js';
import { requestText } from './request.js';
import { REQUEST_TIMEOUT_MS, type Answer } from './target.js';
import { forbiddenIn } from './world.js';

/*
 * What every answer must satisfy (issue 13, "Hostile input"). Each returns a sentence saying what
 * went wrong, or undefined.
 */

/** The path the audit middleware sees: no query, no slashes at either end. */
const pathOf = (r: FuzzRequest) => r.path.split('?')[0].replace(/^\/+|\/+$/g, '');

/** The CapabilityStatement, SMART discovery and CORS preflights are not audited (src/audit/README.md). */
const isUnaudited = (r: FuzzRequest) => r.method === 'OPTIONS' || pathOf(r) === 'metadata' || pathOf(r).startsWith('.well-known');
/** A batch or transaction: one AuditEvent per entry. */
const isBundle = (r: FuzzRequest) => r.method === 'POST' && pathOf(r) === '';
const isMessage = (r: FuzzRequest) => pathOf(r) === '$process-message';

export function serverError(answer: Answer): string | undefined {
  return answer.status >= 500 || answer.status < 100 ? `answered ${answer.status}: ${answer.body.slice(0, 400)}` : undefined;
}

export function tooSlow(answer: Answer): string | undefined {
  return answer.ms > REQUEST_TIMEOUT_MS ? `took ${answer.ms.toFixed(0)} ms (limit ${REQUEST_TIMEOUT_MS} ms)` : undefined;
}

/**
 * A request answered 4xx leaves its AuditEvent and nothing else (a rejected message also its line
 * in the message log, by design: messaging/processor.ts); one answered 2xx or 3xx leaves exactly
 * one AuditEvent, a Bundle at least one (one per entry); unaudited requests leave nothing.
 */
export function wrongWrites(r: FuzzRequest, answer: Answer, writes: Record<string, number>): string | undefined {
  const { audit_event: audits = 0, message_log: messageLog = 0, ...others } = writes;
  const say = (what: string) => `${what}; rows written: ${JSON.stringify(writes)}`;
  if (isUnaudited(r)) return Object.keys(writes).length ? say('an unaudited request wrote') : undefined;
  if (answer.status >= 400) {
    if (audits !== 1) return say(`a failed request (${answer.status}) left ${audits} AuditEvents, not 1`);
    const extra = { ...others, ...(isMessage(r) && messageLog === 1 ? {} : messageLog ? { message_log: messageLog } : {}) };
    return Object.keys(extra).length ? say(`a failed request (${answer.status}) wrote more than its AuditEvent (a partial write)`) : undefined;
  }
  if (isBundle(r)) return audits >= 1 ? undefined : say('a batch or transaction left no AuditEvent');
  return audits === 1 ? undefined : say(`a request answered ${answer.status} left ${audits} AuditEvents, not 1`);
}

/** Team B's ids and markers in an answer to team A, unless the request itself held them. */
export function leak(r: FuzzRequest, answer: Answer): string | undefined {
  const found = forbiddenIn(requestText(r)).filter((m) => answer.body.includes(m));
  return found.length ? `the answer holds team B's ${found.join(', ')}: ${answer.body.slice(0, 600)}` : undefined;
}

import { decodeJwt } from 'jose';
import type { Context } from 'hono';
import type { Clock } from '../clock.js';
import { addAuditInserts } from '../store/audit-log.js';
import type { Queryable } from '../store/database.js';
import { WriteBatch } from '../store/write-batch.js';
import { auditEvent } from './audit-event.js';
import { addressOf, type RequestAudit } from './middleware.js';

/** How a token request ended, as the token endpoint tells its audit. */
export interface TokenRequestOutcome {
  status: number;
  /** The OAuth error code and description of a refusal (RFC 6749 §5.2). */
  error?: string;
  form?: URLSearchParams;
}

/**
 * The AuditEvent of a request to the token endpoint (SMART Backend Services; IHE BALP's pattern for
 * an access-token request): issued or refused, with the client id the assertion claims (recorded as
 * a claim: a refused assertion proves nothing), the caller's address and the outcome. Written in
 * one INSERT before the answer, so a token is never issued unrecorded.
 */
export function recordTokenRequests(trail: () => { db: Queryable; clock: Clock } | undefined, baseUrl?: string) {
  return async (c: Context, outcome: TokenRequestOutcome): Promise<void> => {
    const t = trail();
    if (!t) return;
    const claimed = claimedClient(outcome.form);
    const address = addressOf(c);
    const event = auditEvent({
      interaction: 'operation',
      action: 'E',
      recorded: t.clock.now(),
      status: outcome.status,
      outcomeText: outcome.error,
      requestor: { name: claimed ? `${claimed} (claimed client id)` : 'token requester', ...(address ? { address } : {}) },
      observer: baseUrl ?? new URL(c.req.url).origin,
      request: {
        name: `POST ${new URL(c.req.url).pathname} (${outcome.form?.get('grant_type') ?? 'no grant type'})`,
        details: { 'client_id (claimed)': claimed, scope: outcome.form?.get('scope') ?? undefined, 'X-Request-ID': c.get('requestId') as string | undefined },
      },
    });
    const batch = new WriteBatch();
    addAuditInserts(batch, [event]);
    await batch.run(t.db);
    // the request's own AuditEvent: the audit middleware around it adds none
    const audit = c.get('audit') as RequestAudit | undefined;
    if (audit) audit.scope.recorded++;
  };
}

/** The `iss` of the client assertion, unverified: what the caller says it is. */
function claimedClient(form: URLSearchParams | undefined): string | undefined {
  const assertion = form?.get('client_assertion');
  if (!assertion) return form?.get('client_id') ?? undefined;
  try {
    const iss = decodeJwt(assertion).iss;
    return typeof iss === 'string' ? iss.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

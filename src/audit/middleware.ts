import { getConnInfo } from '@hono/node-server/conninfo';
import type { Resource } from '@medplum/fhirtypes';
import type { Context, MiddlewareHandler } from 'hono';
import type { Clock } from '../clock.js';
import { FhirError, FhirErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { requestorOf, type Principal } from '../security/principal.js';
import { addAuditInserts } from '../store/audit-log.js';
import type { Queryable } from '../store/database.js';
import { WriteBatch } from '../store/write-batch.js';
import { AuditScope } from './audit-scope.js';
import { interactionAuditEvent } from './request-event.js';
import { fhirBaseOf } from '../http/base-url.js';

/** What a request carries for its audit: its scope, the caller's address, what it answered. */
export interface RequestAudit {
  scope: AuditScope;
  /** The network address the request came from (the socket's peer; a proxy's, behind one). */
  address?: string;
  /** The resource answered, set by the FHIR endpoint (for the patient a read involved). */
  body?: Resource;
}

export type AuditVariables = { audit?: RequestAudit; principal?: Principal; requestId?: string };

export interface AuditOptions {
  /** Mount point of the FHIR API. */
  prefix: string;
  baseUrl?: string;
  /** Where AuditEvents go; undefined while the server is starting (a 503 has nowhere to be recorded). */
  trail: () => { db: Queryable; clock: Clock } | undefined;
  logger: Logger;
  /** The base a misdirected request (421) is recorded under when BASE_URL is not set: the first allowed host's. */
  fallbackBase: string;
}

/**
 * The request's path below the FHIR base (`Patient/1`, `metadata`), or below the root for the
 * routes beside the API (`.well-known/smart-configuration`, `auth/token`), without slashes at
 * either end.
 */
function auditedPath(pathname: string, prefix: string): string {
  const below = pathname === prefix || pathname.startsWith(`${prefix}/`) ? pathname.slice(prefix.length) : pathname;
  return below.replace(/^\/+|\/+$/g, '');
}

/**
 * The FHIR base a request's AuditEvent names as its observer. A request refused for its Host (421)
 * must not write that Host into the record (audit/README.md), so it is named by the configured
 * base, or the first allowed host.
 */
function observerOf(c: Context, opts: AuditOptions): string {
  const misdirected = c.error instanceof FhirError && c.error.status === 421;
  return misdirected ? (opts.baseUrl ?? opts.fallbackBase) : fhirBaseOf(c, opts);
}

/**
 * An AuditEvent for every request to the FHIR API and the routes beside it, discovery and the
 * token endpoint (issue 13: "every request leaves exactly one AuditEvent"; IHE BALP). Mounted
 * before the Host check and authentication, so a request refused with 421 or 401 (or 403, 404, 413,
 * 429, 500…) is recorded too, as are the public CapabilityStatement and discovery document: an
 * anonymous caller can add rows, but only as fast as RATE_LIMIT_PER_MINUTE lets it, and who read
 * the server's description is itself worth knowing (audit/README.md). The token endpoint records
 * its own (token-request.ts), with what its form claims.
 * A write records its own AuditEvent in its statement, and a message its own whatever its outcome
 * (AuditScope), so those add none; everything else gets one here, after the handler, in one
 * INSERT of its own (a failed write's outside its rolled-back transaction). Batch entries are
 * audited each (interactions/batch.ts) and inserted together.
 *
 * No disclosure without its record: when the AuditEvent of a successful request cannot be
 * written, the request fails (500) rather than answer unaudited.
 */
export function auditRequests(opts: AuditOptions): MiddlewareHandler<{ Variables: AuditVariables }> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const path = auditedPath(url.pathname, opts.prefix);
    const method = c.req.method.toUpperCase();
    const audit: RequestAudit = { scope: new AuditScope(), address: addressOf(c) };
    c.set('audit', audit);
    await next();
    const trail = opts.trail();
    if (!trail) return;
    const status = c.res.status;
    const succeeded = status < 400;
    const events = succeeded ? [...audit.scope.pending] : [];
    if (!audit.scope.audited(succeeded)) {
      const principal = c.get('principal');
      events.push(
        interactionAuditEvent(
          { method, path, query: [...url.searchParams], status, error: c.error, body: audit.body, interaction: audit.scope.interaction },
          {
            requestor: principal ? requestorOf(principal, audit.address) : { name: 'unauthenticated caller', ...(audit.address ? { address: audit.address } : {}) },
            baseUrl: observerOf(c, opts),
            requestId: c.get('requestId'),
            recorded: trail.clock.now(),
          },
        ),
      );
    }
    if (events.length === 0) return;
    try {
      const batch = new WriteBatch();
      addAuditInserts(batch, events);
      await batch.run(trail.db);
    } catch (err) {
      opts.logger.error({ err, requestId: c.get('requestId'), status }, 'could not record the AuditEvent of a request');
      if (succeeded) throw new FhirError(FhirErrorCode.INTERNAL, 'The request could not be recorded in the audit trail, so it is not answered', { cause: err });
    }
  };
}

/** The caller's network address, where the request came over a socket (not in-process tests). */
export function addressOf(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

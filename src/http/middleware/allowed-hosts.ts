import type { MiddlewareHandler } from 'hono';
import type { AllowedHost } from '../../config/allowed-hosts.js';
import { FhirError, FhirErrorCode } from '../../errors.js';

/**
 * Refuses a request whose Host (the authority of its target URI) is not one this server answers
 * for. Without BASE_URL the FHIR base of self links, `Location` and the audit's observer is taken
 * from the request's own URL, so any Host would be written back to the client and into the record
 * (Host header injection). The answer is 421 Misdirected Request (RFC 9110 §15.5.20): "the request
 * was directed at a server that is unable or unwilling to produce an authoritative response for the
 * target URI". `exempt` paths (health, readiness, metrics) answer under any name: probes call them
 * by address, and they write no URL.
 */
export function allowedHosts(allowed: readonly AllowedHost[], exempt: (path: string) => boolean): MiddlewareHandler {
  return async (c, next) => {
    if (exempt(c.req.path)) return next();
    const { hostname, port } = new URL(c.req.url);
    const name = hostname.toLowerCase();
    if (allowed.some((a) => a.hostname === name && (a.port === undefined || a.port === (port || defaultPort(c.req.url))))) return next();
    throw new FhirError(FhirErrorCode.MISDIRECTED, {
      message: `This server does not answer for the host '${hostname}${port ? `:${port}` : ''}'; it answers for ${allowed.map(formatHost).join(', ')} (ALLOWED_HOSTS)`,
      code: 'not-supported',
    });
  };
}

const defaultPort = (url: string): string => (url.startsWith('https:') ? '443' : '80');

const formatHost = (a: AllowedHost): string => (a.port ? `${a.hostname}:${a.port}` : a.hostname);

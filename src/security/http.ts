import type { Context, Env, Hono, MiddlewareHandler } from 'hono';
import { FhirError, FhirErrorCode } from '../errors.js';
import { InvalidToken, KeysUnavailable } from './bearer.js';
import { ANONYMOUS_PRINCIPAL, DEVELOPMENT_PRINCIPAL, type PrincipalVariables } from './principal.js';
import { DatabaseNotReady, type Security } from './security.js';
import { smartConfiguration, TOKEN_PATH, tokenEndpointOf } from './smart-configuration.js';
import { OAuthError } from './token-endpoint.js';
import { fhirBaseOf } from '../http/base-url.js';

export interface SecurityHttpOptions {
  /** Mount point of the FHIR API. */
  prefix: string;
  /** BASE_URL; else the FHIR base is the request's origin and the prefix. */
  baseUrl?: string;
  /** Records each token request, issued or refused, before it is answered (the audit trail). */
  onTokenRequest?: (c: Context, outcome: { status: number; error?: string; form?: URLSearchParams }) => Promise<void>;
}

const REALM = 'stepwise';

/**
 * Who is asking, for every request to the FHIR API: the principal of a valid bearer token
 * (RFC 6750 §2.1), put on the context as `principal`. No token, or one that is not valid, is 401
 * with a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3); whether the principal may do what it
 * asks is decided per interaction (access.ts). The CapabilityStatement and the discovery document
 * are public. With auth off (no Security) every request is the development principal.
 */
export function authenticate(security: Security | undefined, opts: SecurityHttpOptions): MiddlewareHandler<{ Variables: PrincipalVariables }> {
  return async (c, next) => {
    if (!security) {
      c.set('principal', DEVELOPMENT_PRINCIPAL);
      return next();
    }
    const token = bearerToken(c.req.header('Authorization'));
    if (!token) {
      if (!isPublic(c, opts.prefix)) throw challenge(c, 'This request needs a bearer token (Authorization: Bearer …)');
      c.set('principal', ANONYMOUS_PRINCIPAL);
      return next();
    }
    try {
      c.set('principal', await security.verifier.verify(token, fhirBaseOf(c, opts)));
    } catch (err) {
      if (err instanceof InvalidToken) throw challenge(c, `The bearer token is not valid: ${err.message}`, err.message);
      if (err instanceof KeysUnavailable) throw new FhirError(FhirErrorCode.UNAVAILABLE, `The bearer token cannot be checked just now: ${err.message}`, { cause: err });
      throw err;
    }
    return next();
  };
}

function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '');
  return m?.[1];
}

/** The CapabilityStatement (SMART: discoverable without a token) and the discovery document. */
function isPublic(c: Context, prefix: string): boolean {
  const path = c.req.path;
  return ((c.req.method === 'GET' || c.req.method === 'HEAD') && path === `${prefix}/metadata`) || path.startsWith(`${prefix}/.well-known/`);
}

/** 401 with the RFC 6750 §3 challenge; `error` only when a token was given (§3.1). */
function challenge(c: Context, message: string, description?: string): FhirError {
  c.header('WWW-Authenticate', description ? `Bearer realm="${REALM}", error="invalid_token", error_description="${description.replace(/["\\]/g, '')}"` : `Bearer realm="${REALM}"`);
  return new FhirError(FhirErrorCode.UNAUTHORIZED, message);
}

/**
 * The SMART discovery document (at the root and under the FHIR base, as SMART asks) and the
 * token endpoint. Only with auth on: with it off there is nothing to discover.
 */
export function mountSecurityRoutes<E extends Env>(app: Hono<E>, security: Security | undefined, opts: SecurityHttpOptions): void {
  if (!security) return;
  const discovery = (c: Context) => c.json(smartConfiguration(fhirBaseOf(c, opts), security.identityProviders), 200, { 'Cache-Control': 'public, max-age=3600' });
  app.get('/.well-known/smart-configuration', discovery);
  app.get(`${opts.prefix}/.well-known/smart-configuration`, discovery);
  app.post(TOKEN_PATH, async (c) => {
    let form: URLSearchParams | undefined;
    try {
      if (!security.issuer) throw new OAuthError('invalid_client', 'no client is registered with this server');
      if (!/^application\/x-www-form-urlencoded\b/i.test(c.req.header('Content-Type') ?? '')) {
        throw new OAuthError('invalid_request', 'the token request is a form: Content-Type application/x-www-form-urlencoded (RFC 6749 §4.4.2)');
      }
      const fhirBase = fhirBaseOf(c, opts);
      form = new URLSearchParams(await c.req.text());
      const token = await security.issuer.issue(form, { tokenUrl: tokenEndpointOf(fhirBase), fhirBase });
      await opts.onTokenRequest?.(c, { status: 200, form });
      return c.json(token, 200, NO_STORE);
    } catch (err) {
      const oauth = err instanceof DatabaseNotReady ? new OAuthError('temporarily_unavailable', 'Stepwise is starting up; try again shortly') : err;
      if (!(oauth instanceof OAuthError)) throw err;
      await opts.onTokenRequest?.(c, { status: oauth.status, error: `${oauth.code}: ${oauth.description}`, form });
      return c.json({ error: oauth.code, error_description: oauth.description }, oauth.status, NO_STORE);
    }
  });
}

/** RFC 6749 §5.1: token responses are never cached. */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

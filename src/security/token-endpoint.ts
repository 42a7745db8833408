import { randomUUID } from 'node:crypto';
import { decodeJwt, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { RegisteredClient } from '../config/auth.js';
import type { JtiStore } from './jti-store.js';
import type { ServerKey } from './keys.js';
import { ADMIN_SCOPE, grantsAdmin } from './admin.js';
import { formatScope, intersectScopes, parseScopes, type Scope } from './scopes.js';

/**
 * The token endpoint of SMART Backend Services
 * (http://hl7.org/fhir/smart-app-launch/backend-services.html): `client_credentials` with the
 * client authenticated by a signed JWT (private_key_jwt, RFC 7523 §2.2). Errors are RFC 6749 §5.2
 * JSON, not OperationOutcomes: OAuth clients expect them.
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'] as const;
/** SMART: the assertion's exp is "no more than five minutes in the future". */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type' | 'temporarily_unavailable';

/** An RFC 6749 §5.2 error response; invalid_client is 401 (the client failed to authenticate). */
export class OAuthError extends Error {
  override name = 'OAuthError';
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
  get status(): 400 | 401 | 503 {
    return this.code === 'invalid_client' ? 401 : this.code === 'temporarily_unavailable' ? 503 : 400;
  }
}

export interface KnownClient {
  client: RegisteredClient;
  keys: JWTVerifyGetKey;
  scopes: Scope[];
}

export interface TokenIssuerOptions {
  clients: ReadonlyMap<string, KnownClient>;
  serverKey: ServerKey;
  jtis: JtiStore;
  lifetimeSeconds: number;
  clockSkewSeconds: number;
  now?: () => Date;
}

/** RFC 6749 §5.1: the successful response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
}

export class TokenIssuer {
  constructor(private readonly opts: TokenIssuerOptions) {}

  /** Answers a token request (the form parameters); `tokenUrl` is the assertion's required aud, `fhirBase` the token's iss and aud. */
  async issue(form: URLSearchParams, urls: { tokenUrl: string; fhirBase: string }): Promise<TokenResponse> {
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'only client_credentials is supported (SMART Backend Services)');
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) throw new OAuthError('invalid_client', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    const assertion = form.get('client_assertion');
    if (!assertion) throw new OAuthError('invalid_client', 'client_assertion is required');
    const known = this.clientOf(assertion);
    const claims = await this.verifyAssertion(assertion, known, urls.tokenUrl);
    const scopes = this.grantedScopes(form.get('scope'), known);
    const now = this.now();
    // kept for as long as the assertion could still be accepted, clock skew included
    const usableUntil = new Date((claims.exp! + this.opts.clockSkewSeconds) * 1000);
    if (!(await this.opts.jtis.claim(known.client.clientId, claims.jti!, usableUntil, now))) {
      throw new OAuthError('invalid_client', 'this client_assertion has been used already (its jti is spent); sign a new one for each request');
    }
    // stepwise/admin (admin.ts) when asked for and registered
    const admin = grantsAdmin(form.get('scope')?.split(' ')) && grantsAdmin(known.client.scopes);
    const scope = [...scopes.map(formatScope), ...(admin ? [ADMIN_SCOPE] : [])].join(' ');
    return { access_token: await this.sign(known.client, scope, urls.fhirBase, now), token_type: 'bearer', expires_in: this.opts.lifetimeSeconds, scope };
  }

  /** The registered client the assertion names: iss and sub are both its client_id. */
  private clientOf(assertion: string): KnownClient {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(assertion);
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT');
    }
    if (typeof claims.iss !== 'string' || claims.iss !== claims.sub) throw new OAuthError('invalid_client', 'the assertion must have iss and sub both equal to the client_id');
    const known = this.opts.clients.get(claims.iss);
    if (!known) throw new OAuthError('invalid_client', 'the client is not registered');
    return known;
  }

  private async verifyAssertion(assertion: string, known: KnownClient, tokenUrl: string): Promise<JWTPayload> {
    const clientId = known.client.clientId;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, known.keys, {
        algorithms: [...ASSERTION_ALGORITHMS],
        issuer: clientId,
        subject: clientId,
        audience: tokenUrl,
        requiredClaims: ['exp', 'jti'],
        clockTolerance: this.opts.clockSkewSeconds,
        currentDate: this.now(),
      }));
    } catch (err) {
      throw assertionError(err, tokenUrl);
    }
    if (payload.exp! - this.now().getTime() / 1000 > MAX_ASSERTION_LIFETIME_SECONDS + this.opts.clockSkewSeconds) {
      throw new OAuthError('invalid_client', 'the assertion expires more than five minutes ahead');
    }
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw new OAuthError('invalid_client', 'the assertion needs a jti of 1-256 characters');
    return payload;
  }

  /** What was asked for, narrowed to what the client is registered for (RFC 6749 §3.3). */
  private grantedScopes(asked: string | null, known: KnownClient): Scope[] {
    if (!asked?.trim()) throw new OAuthError('invalid_scope', 'scope is required: ask for system/… scopes');
    const granted = intersectScopes(parseScopes(asked), known.scopes).filter((s) => s.context !== 'patient');
    if (granted.length === 0) throw new OAuthError('invalid_scope', `none of the scopes asked for is granted to this client; it may ask for ${known.client.scopes.join(' ')}`);
    return granted;
  }

  private sign(client: RegisteredClient, scope: string, fhirBase: string, now: Date): Promise<string> {
    const { serverKey, lifetimeSeconds } = this.opts;
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ client_id: client.clientId, scope, teams: client.teams, ...(client.organisation ? { organisation: client.organisation } : {}) })
      .setProtectedHeader({ alg: serverKey.alg, kid: serverKey.kid, typ: 'at+jwt' })
      .setIssuer(fhirBase)
      .setAudience(fhirBase)
      .setSubject(client.clientId)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetimeSeconds)
      .sign(serverKey.privateKey);
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }
}

function assertionError(err: unknown, tokenUrl: string): OAuthError {
  if (err instanceof errors.JWTExpired) return new OAuthError('invalid_client', 'the assertion has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new OAuthError('invalid_client', err.claim === 'aud' ? `the assertion's aud must be the token endpoint, ${tokenUrl}` : `the assertion's ${err.claim} claim is not valid`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new OAuthError('invalid_client', 'the assertion must be signed with RS384 or ES384');
  if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) return new OAuthError('temporarily_unavailable', "the client's keys could not be fetched");
  return new OAuthError('invalid_client', "the assertion's signature does not verify with the client's registered keys");
}

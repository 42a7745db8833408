import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { IdentityProvider } from '../config/auth.js';
import { keySetOf, type ServerKey } from './keys.js';
import type { Principal } from './principal.js';
import { ADMIN_SCOPE, grantsAdmin } from './admin.js';
import { formatScope, parseScopes, type Scope } from './scopes.js';

/** A token that is not valid here, with what the client is told (RFC 6750 §3.1 `invalid_token`). */
export class InvalidToken extends Error {
  override name = 'InvalidToken';
}

/** The identity provider's keys cannot be had just now: the request may succeed later (503). */
export class KeysUnavailable extends Error {
  override name = 'KeysUnavailable';
}

export interface BearerOptions {
  /** Verifies the tokens Stepwise issues at its token endpoint; none when no client is registered. */
  serverKey?: ServerKey;
  identityProviders: readonly IdentityProvider[];
  clockSkewSeconds: number;
  now?: () => Date;
}

/** Verified tokens kept at most (each a few hundred bytes). */
const MAX_VERIFIED_TOKENS = 10_000;

/**
 * Bearer access tokens (RFC 6750): JWTs of two kinds. Stepwise's own, issued at /auth/token to a
 * registered client, name the FHIR base URL as issuer and audience; user tokens name an identity
 * provider of STEPWISE_IDP. The issuer picks the key set; the signature, issuer, audience and
 * expiry (with the configured clock skew) are then verified by jose with an allow-list of
 * asymmetric algorithms, so `none` and HS256 with a public key as secret are refused.
 */
export class BearerVerifier {
  private readonly providers: { idp: IdentityProvider; keys: JWTVerifyGetKey }[];
  /**
   * Tokens already verified, until they expire: a client sends the same token with every request
   * for its lifetime, and an ES384 signature costs about 0.8 ms of CPU to check (docs/benchmarks.md,
   * the cost of auth). Only a token that verified is kept, keyed by its exact text, and never past
   * its `exp` (the clock skew is not extended to it).
   */
  private readonly verified = new Map<string, { principal: Principal; expiresAt: number }>();

  constructor(private readonly opts: BearerOptions) {
    this.providers = opts.identityProviders.map((idp) => ({ idp, keys: keySetOf(idp.jwks) }));
  }

  async verify(token: string, fhirBase: string): Promise<Principal> {
    const key = `${fhirBase} ${token}`;
    const now = (this.opts.now?.() ?? new Date()).getTime();
    const known = this.verified.get(key);
    if (known && now < known.expiresAt) return known.principal;
    if (known) this.verified.delete(key);
    const { principal, exp } = await this.verifySignature(token, fhirBase);
    this.remember(key, principal, exp * 1000, now);
    return principal;
  }

  private remember(key: string, principal: Principal, expiresAt: number, now: number): void {
    if (expiresAt <= now) return;
    // bounded: the oldest entry goes first (a Map iterates in insertion order)
    if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, { principal, expiresAt });
  }

  private async verifySignature(token: string, fhirBase: string): Promise<{ principal: Principal; exp: number }> {
    const issuer = unverifiedIssuer(token);
    const own = this.opts.serverKey;
    if (own && issuer === fhirBase) {
      const payload = await this.check(() => jwtVerify(token, own.publicKey, { ...this.common(), algorithms: [own.alg], issuer: fhirBase, audience: fhirBase, requiredClaims: ['exp', 'sub'] }));
      return { principal: clientPrincipal(payload, fhirBase), exp: payload.exp! };
    }
    const provider = this.providers.find((p) => p.idp.issuer.includes(issuer));
    if (!provider) throw new InvalidToken('the token is from an issuer this server does not trust');
    const { idp, keys } = provider;
    const payload = await this.check(() => jwtVerify(token, keys, { ...this.common(), algorithms: idp.algorithms, issuer: idp.issuer, audience: idp.audience, requiredClaims: ['exp'] }));
    return { principal: userPrincipal(payload, idp, issuer), exp: payload.exp! };
  }

  private common() {
    return { clockTolerance: this.opts.clockSkewSeconds, currentDate: this.opts.now?.() };
  }

  private async check(verify: () => Promise<{ payload: JWTPayload }>): Promise<JWTPayload> {
    try {
      return (await verify()).payload;
    } catch (err) {
      throw tokenError(err);
    }
  }
}

function unverifiedIssuer(token: string): string {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new InvalidToken('the token is not a JWT');
  }
  if (typeof claims.iss !== 'string') throw new InvalidToken('the token names no issuer');
  return claims.iss;
}

/** jose's failures in our words: the response names no library (issue 13, hostile input). */
function tokenError(err: unknown): Error {
  if (err instanceof errors.JWTExpired) return new InvalidToken('the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) return new InvalidToken(`the token's ${err.claim} claim is not valid here`);
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new InvalidToken("the token's signing algorithm is not accepted");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new InvalidToken("the token's signature does not verify");
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return new InvalidToken("no key of the token's issuer matches its signature");
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) return new KeysUnavailable("the token issuer's keys could not be fetched", { cause: err });
  return new InvalidToken('the token is not valid');
}

/** A token Stepwise issued: who the client is was settled when it was issued (see token-endpoint.ts). */
function clientPrincipal(p: JWTPayload, issuer: string): Principal {
  // a client has no patient in context, so patient/ scopes give it nothing
  const scopes = parseScopes(stringClaim(p.scope)).filter((s) => s.context !== 'patient');
  const admin = grantsAdmin(stringClaim(p.scope));
  return {
    kind: 'client',
    clientId: stringClaim(p.client_id) ?? p.sub!,
    issuer,
    organisation: stringClaim(p.organisation),
    teams: stringList(p.teams),
    scopes,
    scope: scopeText(scopes, admin),
    admin,
  };
}

function userPrincipal(p: JWTPayload, idp: IdentityProvider, issuer: string): Principal {
  const user = stringClaim(claimAt(p, idp.claims.user));
  if (!user) throw new InvalidToken(`the token has no ${idp.claims.user} claim naming the user`);
  const patient = stringClaim(claimAt(p, idp.claims.patient));
  // patient/ scopes hold only with a patient in context (SMART App Launch v2, launch context)
  const scopeClaim = stringClaim(claimAt(p, idp.claims.scope)) ?? stringList(claimAt(p, idp.claims.scope)).join(' ');
  const scopes = parseScopes(scopeClaim).filter((s) => s.context !== 'patient' || patient);
  const admin = grantsAdmin(scopeClaim);
  return {
    kind: 'user',
    clientId: stringClaim(claimAt(p, idp.claims.clientId)) ?? stringClaim(p.client_id) ?? stringList(p.aud)[0] ?? issuer,
    user,
    issuer,
    organisation: stringClaim(claimAt(p, idp.claims.organisation)),
    teams: stringList(claimAt(p, idp.claims.teams)),
    scopes,
    scope: scopeText(scopes, admin),
    admin,
    patient,
    fhirUser: fhirUserReference(stringClaim(claimAt(p, idp.claims.fhirUser))),
  };
}

/** The granted scopes as text, `stepwise/admin` last when granted. */
const scopeText = (scopes: Scope[], admin: boolean): string => [...scopes.map(formatScope), ...(admin ? [ADMIN_SCOPE] : [])].join(' ');

/** `Practitioner/123` from a fhirUser claim, relative or a full URL (SMART App Launch: fhirUser). */
function fhirUserReference(claim: string | undefined): string | undefined {
  const m = claim && /(?:^|\/)((?:Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64})$/.exec(claim);
  return m ? m[1] : undefined;
}

/** A claim by name, or by a dotted path into objects and arrays (`nhsid_nrbac_roles.0.org_code`). */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  return path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), payload);
}

function stringClaim(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function stringList(v: unknown): string[] {
  if (typeof v === 'string') return v.split(' ').filter(Boolean);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : [];
}

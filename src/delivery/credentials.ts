import { randomUUID } from 'node:crypto';
import { importJWK, importPKCS8, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { Partner } from '../config/partners.js';
import type { Transport } from './transport.js';

/** A token is renewed this long before it expires, so a request never carries one about to lapse. */
const RENEW_BEFORE_MS = 30_000;
/** The assertion's lifetime: SMART Backend Services asks for at most five minutes. */
const ASSERTION_SECONDS = 300;

/** Thrown when a partner's token endpoint does not give a token: the message is retried like any failed delivery. */
export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

/**
 * The Authorization header for each partner, from its configured auth: none, a fixed bearer
 * token, or SMART Backend Services (client_credentials with a signed JWT assertion,
 * https://hl7.org/fhir/smart-app-launch/backend-services.html#obtaining-an-access-token), whose
 * access token is kept until shortly before it expires. Time comes from the injectable clock.
 */
export class PartnerCredentials {
  private readonly tokens = new Map<string, { token: string; until: number }>();
  private readonly keys = new Map<string, Promise<CryptoKey | Uint8Array>>();

  constructor(
    private readonly clock: Clock,
    private readonly transport: Transport,
  ) {}

  async authorization(partner: Partner): Promise<string | undefined> {
    const auth = partner.auth;
    if (auth.type === 'none') return undefined;
    if (auth.type === 'bearer') return `Bearer ${auth.token}`;
    const now = this.clock.now().getTime();
    const kept = this.tokens.get(partner.id);
    if (kept && kept.until > now) return `Bearer ${kept.token}`;
    const token = await this.fetchToken(partner, auth, now);
    return `Bearer ${token}`;
  }

  /** A token the partner refused (401): asked for again on the next attempt. */
  forget(partner: Partner): void {
    this.tokens.delete(partner.id);
  }

  private async fetchToken(partner: Partner, auth: Extract<Partner['auth'], { type: 'smart-backend' }>, now: number): Promise<string> {
    const key = await this.keyOf(partner.id, auth.privateKey, auth.alg);
    const seconds = Math.floor(now / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: auth.alg, typ: 'JWT', ...(auth.kid ? { kid: auth.kid } : {}) })
      .setIssuer(auth.clientId)
      .setSubject(auth.clientId)
      .setAudience(auth.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(seconds)
      .setExpirationTime(seconds + ASSERTION_SECONDS)
      .sign(key);
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: auth.scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }).toString();
    const res = await this.transport(auth.tokenUrl, { headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }, body, timeoutMs: partner.timeoutSeconds * 1000 });
    let answer: { access_token?: unknown; expires_in?: unknown } = {};
    try {
      answer = JSON.parse(res.body) as typeof answer;
    } catch {
      // described below
    }
    if (res.status !== 200 || typeof answer.access_token !== 'string') {
      throw new CredentialsError(`token endpoint ${auth.tokenUrl} answered ${res.status} without an access token: ${res.body.slice(0, 300)}`);
    }
    const lifetime = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in * 1000 : 300_000;
    this.tokens.set(partner.id, { token: answer.access_token, until: now + Math.max(lifetime - RENEW_BEFORE_MS, lifetime / 2) });
    return answer.access_token;
  }

  private keyOf(id: string, text: string, alg: string): Promise<CryptoKey | Uint8Array> {
    let key = this.keys.get(id);
    if (!key) {
      key = text.trim().startsWith('{') ? importJWK(JSON.parse(text) as JWK, alg) : importPKCS8(text, alg);
      this.keys.set(id, key);
    }
    return key;
  }
}

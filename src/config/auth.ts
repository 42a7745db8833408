import { z } from 'zod';
import { ADMIN_SCOPE } from '../security/admin.js';
import { parseScope } from '../security/scopes.js';

/*
 * Authentication settings (issue 13), checked at start-up like the rest of the configuration: a bad
 * value stops the server with a message naming the variable. See src/security/README.md.
 *
 * STEPWISE_AUTH              on | off. Unset: off on the embedded database (development), and an
 *                            error with DATABASE_URL, where auth must be chosen explicitly.
 * STEPWISE_CLIENTS           JSON array of {clientId, jwks, scopes, organisation, teams}: the
 *                            systems that get tokens at /auth/token (SMART Backend Services).
 * STEPWISE_IDP               JSON object (or array) for user tokens from an identity provider.
 * STEPWISE_TOKEN_KEY         the private JWK (EC P-384 or RSA) Stepwise signs its tokens with;
 *                            required with DATABASE_URL when clients are registered, so that every
 *                            instance signs and verifies with the same key.
 * STEPWISE_TOKEN_LIFETIME_SECONDS, STEPWISE_CLOCK_SKEW_SECONDS
 */

const URL_TEXT = z.string().url().refine((u) => /^https?:\/\//.test(u), 'a JWKS URL is http(s)://');

const publicJwk = z
  .object({ kty: z.enum(['RSA', 'EC', 'OKP']), kid: z.string().optional(), alg: z.string().optional() })
  .passthrough()
  .refine((k) => !('d' in k), 'a private key: register the public key only');

const jwkSet = z.object({ keys: z.array(publicJwk).min(1) });
export type JwkSet = z.infer<typeof jwkSet>;

/** An inline JWK Set, or the URL where it is published (fetched and cached by jose). */
const jwksSource = z.union([URL_TEXT, jwkSet]);
export type JwksSource = z.infer<typeof jwksSource>;

const scopeText = z.string().refine((s) => parseScope(s) !== undefined || s === ADMIN_SCOPE, `not a SMART resource scope (context/Type.cruds, .read or .write) nor ${ADMIN_SCOPE}`);

const clientSchema = z.object({
  clientId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, '1-128 letters, digits and . _ : -'),
  jwks: jwksSource,
  /** The most the client may ask for: a space-separated string or a list. */
  scopes: z.union([z.string().transform((s) => s.split(' ').filter(Boolean)), z.array(z.string())]).pipe(z.array(scopeText).min(1)),
  organisation: z.string().min(1).optional(),
  teams: z.array(z.string().min(1)).default([]),
});
export type RegisteredClient = z.infer<typeof clientSchema>;

const clientsSchema = z.array(clientSchema).refine((list) => new Set(list.map((c) => c.clientId)).size === list.length, 'two clients share a clientId');

const oneOrMany = z.union([z.string().min(1).transform((s) => [s]), z.array(z.string().min(1)).min(1)]);
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const idpSchema = z.object({
  issuer: oneOrMany,
  audience: oneOrMany,
  jwks: jwksSource,
  /** Asymmetric algorithms only: `none` and HS* are never accepted (no algorithm confusion). */
  algorithms: z.array(z.enum(ALGORITHMS)).min(1).default(['RS256', 'RS384', 'ES256', 'ES384']),
  /** Where the token says who and what; a dotted path reaches into objects and arrays (`roles.0.org`). */
  claims: z
    .object({
      user: z.string().min(1).default('sub'),
      clientId: z.string().min(1).default('azp'),
      organisation: z.string().min(1).default('organisation'),
      teams: z.string().min(1).default('teams'),
      scope: z.string().min(1).default('scope'),
      patient: z.string().min(1).default('patient'),
      /** SMART's `fhirUser`: the Practitioner (or PractitionerRole) the user is, e.g. `Practitioner/123` or its full URL. */
      fhirUser: z.string().min(1).default('fhirUser'),
    })
    .prefault({}),
});
export type IdentityProvider = z.infer<typeof idpSchema>;

const privateJwk = z
  .object({ kty: z.enum(['RSA', 'EC']), d: z.string().min(1), crv: z.string().optional(), kid: z.string().optional() })
  .passthrough()
  .refine((k) => k.kty === 'RSA' || k.crv === 'P-384', 'an EC key must be on P-384 (ES384)');
export type PrivateJwk = z.infer<typeof privateJwk>;

export type AuthConfig =
  | { mode: 'off'; /** false: off by default (embedded database, no STEPWISE_AUTH) */ explicit: boolean }
  | {
      mode: 'on';
      clients: RegisteredClient[];
      identityProviders: IdentityProvider[];
      /** Undefined: generated on first start and kept in DATA_DIR (embedded database only). */
      tokenKey?: PrivateJwk;
      tokenLifetimeSeconds: number;
      clockSkewSeconds: number;
    };

export class AuthConfigError extends Error {
  override name = 'AuthConfigError';
}

const numbers = z.object({
  STEPWISE_TOKEN_LIFETIME_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  STEPWISE_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
});

export function loadAuth(env: Record<string, string | undefined>, opts: { databaseUrl?: string }): AuthConfig {
  const mode = env.STEPWISE_AUTH?.trim() || undefined;
  if (mode !== undefined && mode !== 'on' && mode !== 'off') fail('STEPWISE_AUTH', `must be on or off (got ${JSON.stringify(mode)})`);
  if (mode === undefined && opts.databaseUrl) {
    fail('STEPWISE_AUTH', 'must be set with DATABASE_URL: on (with STEPWISE_CLIENTS or STEPWISE_IDP), or off for development only');
  }
  const clients = parseJson('STEPWISE_CLIENTS', env, clientsSchema) ?? [];
  const idp = parseJson('STEPWISE_IDP', env, z.union([idpSchema.transform((i) => [i]), z.array(idpSchema)])) ?? [];
  const tokenKey = parseJson('STEPWISE_TOKEN_KEY', env, privateJwk);
  const n = numbers.safeParse(env);
  if (!n.success) fail(String(n.error.issues[0].path[0]), n.error.issues[0].message);
  if (mode !== 'on') return { mode: 'off', explicit: mode === 'off' };
  if (clients.length === 0 && idp.length === 0) fail('STEPWISE_AUTH', 'on needs STEPWISE_CLIENTS or STEPWISE_IDP: otherwise no one could get in');
  if (clients.length > 0 && opts.databaseUrl && !tokenKey) {
    fail('STEPWISE_TOKEN_KEY', 'required with DATABASE_URL and STEPWISE_CLIENTS: every instance must sign and verify tokens with the same key');
  }
  return {
    mode: 'on',
    clients,
    identityProviders: idp,
    tokenKey,
    tokenLifetimeSeconds: n.data.STEPWISE_TOKEN_LIFETIME_SECONDS,
    clockSkewSeconds: n.data.STEPWISE_CLOCK_SKEW_SECONDS,
  };
}

function parseJson<T>(name: string, env: Record<string, string | undefined>, schema: z.ZodType<T, unknown>): T | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    // JSON.parse quotes the text it failed on, and STEPWISE_TOKEN_KEY is a secret
    fail(name, name === 'STEPWISE_TOKEN_KEY' ? 'not JSON' : `not JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  // never echo the value: STEPWISE_TOKEN_KEY is a secret
  const lines = parsed.error.issues.map((i) => `  ${name}${i.path.map((p) => `[${JSON.stringify(p)}]`).join('')}: ${i.message}`);
  throw new AuthConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

function fail(name: string, message: string): never {
  throw new AuthConfigError(`Invalid configuration:\n  ${name}: ${message}`);
}

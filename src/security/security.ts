import type { AuthConfig, PrivateJwk } from '../config/auth.js';
import type { Queryable } from '../store/database.js';
import { BearerVerifier } from './bearer.js';
import { JtiStore } from './jti-store.js';
import { dataDirServerKey, keySetOf, serverKeyFrom, type ServerKey } from './keys.js';
import { parseScopes } from './scopes.js';
import { TokenIssuer, type KnownClient } from './token-endpoint.js';

/**
 * Authentication as configured (STEPWISE_AUTH=on): the bearer token verifier and, when clients
 * are registered, the token issuer. With auth off there is no Security, and every request is the
 * development principal (see authenticate.ts).
 */
export interface Security {
  verifier: BearerVerifier;
  /** Undefined when no client is registered: then /auth/token answers invalid_client. */
  issuer?: TokenIssuer;
  /** Issuers of user tokens, for the discovery document. */
  identityProviders: string[];
}

export interface SecurityOptions {
  /** Where the embedded database keeps a generated signing key when STEPWISE_TOKEN_KEY is not set. */
  dataDir?: string;
  /** The database that remembers spent assertion jtis; undefined until start-up has opened it. */
  database: () => Queryable | undefined;
  now?: () => Date;
}

/** The database is not open yet (start-up): the token endpoint answers temporarily_unavailable. */
export class DatabaseNotReady extends Error {
  override name = 'DatabaseNotReady';
}

export async function createSecurity(auth: AuthConfig, opts: SecurityOptions): Promise<Security | undefined> {
  if (auth.mode === 'off') return undefined;
  const serverKey = auth.clients.length ? await signingKey(auth.tokenKey, opts.dataDir) : undefined;
  const verifier = new BearerVerifier({ serverKey, identityProviders: auth.identityProviders, clockSkewSeconds: auth.clockSkewSeconds, now: opts.now });
  const clients = new Map<string, KnownClient>(auth.clients.map((client) => [client.clientId, { client, keys: keySetOf(client.jwks), scopes: parseScopes(client.scopes.join(' ')) }]));
  const jtis = new JtiStore(() => {
    const db = opts.database();
    if (!db) throw new DatabaseNotReady('the database is not open yet');
    return db;
  });
  const issuer = serverKey ? new TokenIssuer({ clients, serverKey, jtis, lifetimeSeconds: auth.tokenLifetimeSeconds, clockSkewSeconds: auth.clockSkewSeconds, now: opts.now }) : undefined;
  return { verifier, issuer, identityProviders: auth.identityProviders.flatMap((i) => i.issuer) };
}

function signingKey(configured: PrivateJwk | undefined, dataDir: string | undefined): Promise<ServerKey> {
  if (configured) return serverKeyFrom(configured);
  if (!dataDir) throw new Error('STEPWISE_TOKEN_KEY is not set and there is no data directory to keep a generated key in');
  return dataDirServerKey(dataDir);
}

import type { Context } from 'hono';

/**
 * The part of the authenticated caller (security/principal.ts, `c.get('principal')`) that
 * identifies it for throttling. Structural, so this module does not depend on how authentication
 * is built.
 */
interface Caller {
  kind?: string;
  clientId?: string;
  user?: string;
  issuer?: string;
}

/**
 * Whose bucket a request takes from. An authenticated user counts as that user (two clinicians
 * of one app are two callers), a system client as its client id. Before authentication, and for
 * anonymous or development callers (who all share one id), the remote address: behind a proxy that
 * is the proxy's address, so all clients share one bucket, which is why the limit is off unless set.
 */
export function clientKeyOf(c: Context): string {
  const caller = (c.get as (key: string) => unknown)('principal') as Caller | undefined;
  if (caller?.kind === 'user' && caller.user) return `user:${caller.issuer ?? ''}|${caller.user}`;
  if (caller?.kind === 'client' && caller.clientId) return `client:${caller.clientId}`;
  return `address:${remoteAddressOf(c) ?? 'unknown'}`;
}

/** The peer's address when served by @hono/node-server (`c.env.incoming`); undefined in-process. */
function remoteAddressOf(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/** ALLOWED_HOSTS: which names a request may give in its Host header (enforced by http/middleware/allowed-hosts.ts). */

/**
 * One allowed host: `name` (any port) or `name:port`, as in a Host header (RFC 9110 §7.2); IPv6 in
 * brackets. Names are case-insensitive.
 */
export interface AllowedHost {
  hostname: string;
  port?: string;
}

/** `fhir.example.nhs.uk`, `localhost:8080`, `[::1]:8080` as an AllowedHost; undefined if it is not one. */
export function parseAllowedHost(text: string): AllowedHost | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(text.trim());
  if (!m) return undefined;
  return { hostname: m[1].toLowerCase(), port: m[2] };
}

/**
 * The hosts a request may name when ALLOWED_HOSTS is not set: the public URL's (BASE_URL), or else
 * this machine's loopback names on the port it listens on, so `npm start` and curl to
 * http://localhost:8080 work and nothing else does until the deployment says which name it has.
 * Port 0 (any free port, tests) allows the loopback names on any port.
 */
export function defaultAllowedHosts(baseUrl: string | undefined, port: number): string[] {
  if (baseUrl) return [new URL(baseUrl).host];
  const at = port === 0 ? '' : `:${port}`;
  return [`localhost${at}`, `127.0.0.1${at}`, `[::1]${at}`];
}

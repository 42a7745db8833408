import type { Context } from 'hono';

/**
 * The FHIR base URL a request is answered under: BASE_URL when configured, else the request's own
 * origin and the API's mount point (its Host was checked against ALLOWED_HOSTS before anything
 * builds a URL from it). Links, Location, the audit's observer and the tokens' issuer all use it.
 */
export function fhirBaseOf(c: Context, opts: { prefix: string; baseUrl?: string }): string {
  return opts.baseUrl ?? `${new URL(c.req.url).origin}${opts.prefix}`;
}

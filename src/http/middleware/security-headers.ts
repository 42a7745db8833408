import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

export interface SecurityHeaderOptions {
  /** The server is reached over https (BASE_URL says so): browsers are told to keep to it. */
  https: boolean;
  /** Cross-origin reads are allowed (CORS_ORIGINS), so resources may not be marked same-origin. */
  cors: boolean;
  /** Where the triage pages are (src/web): they load their own styles, scripts and images, nothing else. */
  pagesPrefix?: string;
}

/**
 * Headers on every response, errors included. Stepwise serves data, never pages: nothing in a
 * response is to be sniffed as another type, framed, or run (CSP `default-src 'none'`, which also
 * covers an XHTML narrative opened in a browser), nor its URL leaked as a referrer. Health records
 * are not to be kept by shared caches: `Cache-Control: no-store` unless a handler said otherwise.
 * HSTS only when the public URL is https: over plain http a browser ignores it (RFC 6797 §8.1),
 * and a server reached by IP address for development should not pin anything.
 */
export function securityHeaders(opts: SecurityHeaderOptions): MiddlewareHandler {
  const headers = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    xContentTypeOptions: 'nosniff',
    strictTransportSecurity: opts.https ? 'max-age=31536000; includeSubDomains' : false,
    crossOriginResourcePolicy: opts.cors ? 'cross-origin' : 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    xXssProtection: '0',
  });
  // the pages: files from their own /app/assets only, no inline script or style, forms post to themselves
  const pageHeaders = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'self'"], scriptSrc: ["'self'"], imgSrc: ["'self'"], connectSrc: ["'self'"], formAction: ["'self'"], baseUri: ["'none'"], frameAncestors: ["'none'"] },
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    xContentTypeOptions: 'nosniff',
    strictTransportSecurity: opts.https ? 'max-age=31536000; includeSubDomains' : false,
    crossOriginResourcePolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    xXssProtection: '0',
  });
  const isPage = (path: string) => opts.pagesPrefix !== undefined && (path === opts.pagesPrefix || path.startsWith(`${opts.pagesPrefix}/`));
  return async (c, next) => {
    await (isPage(c.req.path) ? pageHeaders : headers)(c, async () => {
      await next();
      if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
    });
  };
}

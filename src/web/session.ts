import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';

/**
 * The pages' session: one cookie, Secure, HttpOnly, SameSite=Strict, scoped to the pages' path.
 * It holds who signed in (development mode: the practitioner and team chosen; auth on: the
 * identity provider's token, verified again on every request exactly as a bearer token is) and
 * the session's CSRF token, which every POST form carries back. Nothing is kept on the server,
 * so any instance answers any request, and a session ends when the token expires.
 */
export const SESSION_COOKIE = 'stepwise-session';
/** A CSRF token for the sign-in form itself (there is no session yet to hold one). */
export const SIGN_IN_COOKIE = 'stepwise-sign-in';

/** A token longer than this would not fit, with the rest, in one cookie (browsers keep 4,096 bytes). */
export const MAX_TOKEN_LENGTH = 2800;

const SessionSchema = z.object({
  csrf: z.string().min(32).max(64),
  /** Development mode: `Practitioner/[id]` the person chose to act as. */
  practitioner: z.string().max(200).optional(),
  /** The team whose queue is shown (a team identifier value, e.g. `cmht`). */
  team: z.string().max(100).optional(),
  /** Auth on: the user's token from the identity provider. */
  token: z.string().max(MAX_TOKEN_LENGTH).optional(),
});
export type Session = z.infer<typeof SessionSchema>;

export const newCsrfToken = (): string => randomBytes(24).toString('base64url');

export function readSession(c: Context): Session | undefined {
  const raw = getCookie(c, SESSION_COOKIE);
  if (!raw) return undefined;
  try {
    const parsed = SessionSchema.safeParse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const cookieOptions = (path: string) => ({ path, httpOnly: true, secure: true, sameSite: 'Strict' as const });

export function writeSession(c: Context, path: string, session: Session): void {
  setCookie(c, SESSION_COOKIE, Buffer.from(JSON.stringify(session), 'utf8').toString('base64url'), cookieOptions(path));
}

export function endSession(c: Context, path: string): void {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(path));
}

/** The sign-in form's CSRF token: the one already set, or a new one set now. */
export function signInCsrf(c: Context, path: string): string {
  const known = getCookie(c, SIGN_IN_COOKIE);
  if (known && known.length >= 32 && known.length <= 64) return known;
  const token = newCsrfToken();
  setCookie(c, SIGN_IN_COOKIE, token, cookieOptions(path));
  return token;
}

export function signInCsrfCookie(c: Context): string | undefined {
  return getCookie(c, SIGN_IN_COOKIE);
}

/** Constant-time comparison of the token a form sent with the one expected. */
export function sameToken(sent: unknown, expected: string | undefined): boolean {
  if (typeof sent !== 'string' || !expected) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

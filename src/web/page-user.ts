import { InvalidToken } from '../security/bearer.js';
import { DEVELOPMENT_PRINCIPAL, type Principal } from '../security/principal.js';
import type { Security } from '../security/security.js';
import { may, nameOf, teamsOf, type PageUser, type WebServices } from './context.js';
import type { Session } from './session.js';

/** The signed-in session no longer holds: the token expired or no longer verifies. */
export class SessionEnded extends Error {
  override name = 'SessionEnded';
}

/**
 * Who a session is, on every request. Auth off: the development principal (it sees everything,
 * as on the FHIR API), acting as the practitioner chosen at sign-in. Auth on: the token is
 * verified exactly as a bearer token is (security/bearer.ts: issuer, signature, audience, expiry)
 * and must be a user's: its teams decide which queues and records the user sees.
 */
export async function userOf(session: Session, services: WebServices, security: Security | undefined, fhirBase: string): Promise<PageUser> {
  let principal: Principal;
  let practitioner: string | undefined;
  if (!security) {
    practitioner = session.practitioner;
    principal = { ...DEVELOPMENT_PRINCIPAL, ...(practitioner ? { fhirUser: practitioner } : {}) };
  } else {
    if (!session.token) throw new SessionEnded('not signed in');
    principal = await verifiedUser(security, session.token, fhirBase);
    practitioner = principal.fhirUser;
  }
  const store = services.store.for(principal);
  const teams = await teamsOf(services.store, principal);
  const team = teams.find((t) => t.code === session.team) ?? teams[0];
  const person = practitioner?.startsWith('Practitioner/') && may(principal, 'Practitioner', 'r') ? await store.readOrUndefined('Practitioner', practitioner.slice('Practitioner/'.length)) : undefined;
  return { principal, practitioner, name: nameOf(person) ?? principal.user ?? practitioner ?? 'Signed in', teams, team, csrf: session.csrf };
}

/** A user's token, as the bearer middleware verifies it; a client's token does not sign a person in. */
export async function verifiedUser(security: Security, token: string, fhirBase: string): Promise<Principal> {
  try {
    const principal = await security.verifier.verify(token, fhirBase);
    if (principal.kind !== 'user') throw new InvalidToken('this is a system client’s token; sign in with your own token from the identity provider');
    return principal;
  } catch (err) {
    if (err instanceof InvalidToken) throw new SessionEnded(err.message, { cause: err });
    throw err;
  }
}


import type { AuditEventAgent } from '@medplum/fhirtypes';
import { AUDIT, type AuditRequest } from '../audit/audit-event.js';
import { STEPWISE_CANONICAL_BASE } from '../fhir/canonical.js';
import { parseScopes, type Scope } from './scopes.js';

/**
 * Who is asking: the authenticated caller of one request, on the Hono context (`principal`) and on
 * the InteractionContext, so that handlers, the store's compartments and the audit all see the
 * same one.
 */
export interface Principal {
  /**
   * `client`: a system with a token Stepwise issued (SMART Backend Services); `user`: a person
   * with a token from the identity provider; `anonymous`: no token, on a public route
   * (the CapabilityStatement); `development`: authentication is off (STEPWISE_AUTH=off).
   */
  kind: 'client' | 'user' | 'anonymous' | 'development';
  /** The OAuth client (client_id or azp); for a user token, the app the user signed in with. */
  clientId: string;
  /** The user's id at the identity provider (`user` tokens only). */
  user?: string;
  /** Who issued the token: the identity provider, or Stepwise's own FHIR base URL. */
  issuer?: string;
  /** The organisation the caller acts for (an ODS code, as registered or as the token says). */
  organisation?: string;
  /** The teams whose compartments the caller works in. */
  teams: readonly string[];
  /** The SMART scopes granted, parsed; `scope` is their text as granted. */
  scopes: readonly Scope[];
  scope: string;
  /** The patient in context, for `patient/` scopes (a `patient` claim of the token). */
  patient?: string;
  /** The Practitioner or PractitionerRole a user is (`Practitioner/123`, from the fhirUser claim). */
  fhirUser?: string;
  /** Granted `stepwise/admin` (admin.ts): may change the published conformance resources and rule versions. */
  admin?: boolean;
}

/** What `c.get('principal')` holds once the request is authenticated. */
export type PrincipalVariables = { principal: Principal };

const ALL = 'system/*.cruds';

/** Authentication off: every request may do everything, and says so in its audit. */
export const DEVELOPMENT_PRINCIPAL: Principal = Object.freeze({
  kind: 'development',
  clientId: 'development',
  teams: [],
  scopes: parseScopes(ALL),
  scope: ALL,
});

/** No token, on a route that needs none. */
export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({ kind: 'anonymous', clientId: 'anonymous', teams: [], scopes: [], scope: '' });

/** Identifier system of a client id registered with Stepwise (STEPWISE_CLIENTS), in an AuditEvent agent. */
export const CLIENT_ID_SYSTEM = `${STEPWISE_CANONICAL_BASE}/Id/client-id`;

/** ODS codes: the organisation a caller acts for, as an AuditEvent agent names it. */
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/**
 * The audit's requesting agent (AuditEvent.agent with requestor = true) for a principal, called
 * from `address`. BALP's "who" is the client, the user and their organisation: a user is the
 * requestor, with the app they signed in with (the client, DICOM Source Role ID) beside them; the
 * organisation either acts for is an agent of its own.
 */
export function requestorOf(p: Principal, address?: string): AuditRequest['requestor'] {
  const at = address ? { address } : {};
  if (p.kind === 'development') return { name: 'development client (STEPWISE_AUTH=off)', ...at };
  const organisation: AuditEventAgent[] = p.organisation
    ? [{ type: { coding: [ORGANISATION_ROLE] }, who: { identifier: { system: ODS_SYSTEM, value: p.organisation }, display: p.organisation }, requestor: false }]
    : [];
  if (p.kind === 'user' && p.user) {
    const client: AuditEventAgent = { type: { coding: [AUDIT.sourceRole] }, who: { identifier: { system: CLIENT_ID_SYSTEM, value: p.clientId }, display: p.clientId }, requestor: false };
    return {
      identifier: { system: p.issuer, value: p.user },
      name: `${p.user} (via ${p.clientId}${p.organisation ? `, ${p.organisation}` : ''})`,
      ...at,
      alongside: [client, ...organisation],
    };
  }
  return { identifier: { system: CLIENT_ID_SYSTEM, value: p.clientId }, name: `${p.clientId}${p.organisation ? ` (${p.organisation})` : ''}`, ...at, ...(organisation.length ? { alongside: organisation } : {}) };
}

/** An organisation an agent acts for (v3 RoleClass PROV, healthcare provider). */
const ORGANISATION_ROLE = { system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'PROV', display: 'healthcare provider' };

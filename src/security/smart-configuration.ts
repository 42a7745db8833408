import type { CapabilityStatementRest } from '@medplum/fhirtypes';
import { ADMIN_SCOPE } from './admin.js';
import { ASSERTION_ALGORITHMS } from './token-endpoint.js';

/** Where the token endpoint is served, beside the FHIR API. */
export const TOKEN_PATH = '/auth/token';

/**
 * The token endpoint's URL for a FHIR base URL: the base with its last segment `/fhir` replaced
 * (`https://sw.example/fhir` → `https://sw.example/auth/token`, also behind a path prefix);
 * a base that does not end in /fhir has the endpoint at its origin.
 */
export function tokenEndpointOf(fhirBase: string): string {
  const base = fhirBase.replace(/\/+$/, '');
  return base.endsWith('/fhir') ? `${base.slice(0, -'/fhir'.length)}${TOKEN_PATH}` : `${new URL(base).origin}${TOKEN_PATH}`;
}

/** Scopes a client may ask for, as examples: any context/Type.cruds subset is understood. */
// stepwise/admin (admin.ts): changes to what Stepwise publishes
const SCOPES_SUPPORTED = ['system/*.cruds', 'system/*.rs', 'user/*.cruds', 'user/*.rs', 'patient/*.rs', 'system/*.read', 'system/*.write', ADMIN_SCOPE];

/**
 * GET /.well-known/smart-configuration (http://hl7.org/fhir/smart-app-launch/conformance.html):
 * what a SMART client needs to get a token here. Stepwise serves Backend Services only; users
 * sign in at the identity provider, whose tokens Stepwise accepts.
 */
export function smartConfiguration(fhirBase: string, identityProviders: readonly string[]) {
  return {
    ...(identityProviders.length ? { issuer: identityProviders[0] } : {}),
    token_endpoint: tokenEndpointOf(fhirBase),
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    scopes_supported: SCOPES_SUPPORTED,
    capabilities: ['client-confidential-asymmetric', 'permission-v2', 'permission-v1'],
    code_challenge_methods_supported: [],
  };
}

/** CapabilityStatement.rest.security: SMART on FHIR, with the token endpoint in the oauth-uris extension. */
export function restSecurity(fhirBase: string): CapabilityStatementRest['security'] {
  return {
    service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR', display: 'SMART-on-FHIR' }], text: 'OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)' }],
    extension: [{ url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris', extension: [{ url: 'token', valueUri: tokenEndpointOf(fhirBase) }] }],
    description: `Bearer tokens (RFC 6750) with SMART v2 scopes. Systems get them at ${tokenEndpointOf(fhirBase)} (SMART Backend Services: client_credentials, private_key_jwt signed RS384 or ES384); users bring tokens from the identity provider.`,
  };
}

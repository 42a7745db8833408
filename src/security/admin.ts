import type { Principal } from './principal.js';

/**
 * The scope that lets a token change what Stepwise publishes: its conformance resources
 * (StructureDefinitions, ValueSets, CodeSystems, SearchParameters) and the rule versions the front
 * door runs (the triage PlanDefinition), everything whose canonical URL is under Stepwise's base.
 * It is not a SMART resource scope (it names no type and grants no interaction): a write still
 * needs the type's scope as well, e.g. `system/StructureDefinition.u stepwise/admin`. A client is
 * registered with it among its `scopes` and asks for it at the token endpoint; a user's token has
 * it in its scope claim, where the identity provider puts it for administrators' role.
 */
export const ADMIN_SCOPE = 'stepwise/admin';

/** Whether a space-separated scope text, or a list of scopes, includes ADMIN_SCOPE. */
export function grantsAdmin(scope: string | readonly string[] | undefined): boolean {
  const list = typeof scope === 'string' ? scope.split(' ') : (scope ?? []);
  return list.includes(ADMIN_SCOPE);
}

/**
 * Whether the principal may change published content: with ADMIN_SCOPE, or the development
 * principal (auth off: everything is allowed, and start-up seeding writes without a principal).
 */
export function isAdmin(p: Principal): boolean {
  return p.kind === 'development' || p.admin === true;
}

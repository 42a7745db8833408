import type { PatientLimit } from '../store/compartment.js';
import type { Principal } from './principal.js';
import type { Permission, Scope } from './scopes.js';

/**
 * What `patient/` scopes leave a token (SMART App Launch v2, "patient-specific scopes"): access to
 * the patient in context only, i.e. to resources in that patient's compartment (R4
 * compartmentdefinition-patient), within whatever else limits the principal (its teams).
 *
 * The limit is per type. A type is limited to the patient when its `patient/` scopes grant a letter
 * that the principal's other scopes (`user/`, `system/`) do not: then every read and write of that
 * type is kept to the patient in context, the other scopes' letters too. That narrows a mixed
 * token (`user/Observation.r patient/Observation.c` reads only the patient's Observations) rather
 * than let the patient grant reach the whole caseload: it fails closed. A type the other scopes
 * cover fully is not limited; their reach is the wider one.
 */
export function patientLimitOf(principal: Principal): PatientLimit | undefined {
  if (!principal.patient) return undefined;
  const own = principal.scopes.filter((s) => s.context === 'patient');
  if (own.length === 0) return undefined;
  const others = principal.scopes.filter((s) => s.context !== 'patient');
  const limits = (type: string): boolean => {
    const granted = letters(own, type);
    const covered = letters(others, type);
    return [...granted].some((l) => !covered.has(l));
  };
  const wildcard = own.some((s) => s.type === '*');
  const named = [...new Set([...own, ...others].map((s) => s.type).filter((t) => t !== '*'))];
  return {
    patient: patientReference(principal.patient),
    limits,
    // with `patient/*`, every type but those the other scopes cover fully; else the types named
    types: wildcard ? { allBut: named.filter((t) => !limits(t)) } : { only: named.filter(limits) },
  };
}

/** The letters `scopes` grant on `type` (scopes on `*` count for every type). */
function letters(scopes: readonly Scope[], type: string): Set<Permission> {
  return new Set(scopes.filter((s) => s.type === '*' || s.type === type).flatMap((s) => [...s.permissions]));
}

/** The `patient` launch-context claim is an id (`123`); some identity providers send `Patient/123`. */
function patientReference(claim: string): string {
  const m = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(claim);
  return `Patient/${m ? m[1] : claim}`;
}

import { IDENTIFIER } from '../messaging/bars.js';
import { PATHWAY } from '../pathway/codes.js';
import { Compartment } from '../store/compartment.js';
import { patientLimitOf } from './patient-context.js';
import type { Principal } from './principal.js';

/**
 * Team compartments (issue 13, "Authorisation"; src/security/README.md, "Compartments"): which
 * resources a principal may read, turned into the SQL condition the store adds to every query.
 */

/** A principal with this team works for every team: it is not limited (a system client, an administrator). */
export const ALL_TEAMS = '*';

/**
 * Types outside any patient compartment (R4 compartmentdefinition-patient lists them without a
 * parameter) that say nothing about a person: directories, and the definitions and terminology
 * the server publishes. Visible to any principal whose scopes allow the type. Types without a
 * patient parameter that may still carry a person's data (Bundle, Binary, MessageHeader,
 * Linkage, Device, GuidanceResponse, Contract, …) are not here: only their compartment keys, if
 * any, make them visible.
 */
export const SHARED_TYPES: readonly string[] = [
  'Organization', 'OrganizationAffiliation', 'Practitioner', 'PractitionerRole', 'HealthcareService', 'Location', 'Endpoint',
  'StructureDefinition', 'ValueSet', 'CodeSystem', 'ConceptMap', 'NamingSystem', 'SearchParameter', 'OperationDefinition', 'CompartmentDefinition',
  'CapabilityStatement', 'TerminologyCapabilities', 'StructureMap', 'GraphDefinition', 'ImplementationGuide', 'MessageDefinition', 'EventDefinition',
  'PlanDefinition', 'ActivityDefinition', 'Library', 'Measure', 'Questionnaire', 'ObservationDefinition', 'SpecimenDefinition',
  'Medication', 'MedicationKnowledge', 'Substance',
];

/**
 * The compartment of a principal, or undefined when it sees everything: the development
 * principal (STEPWISE_AUTH=off), and a client or user whose teams include `*` and who has no
 * patient in context (a `patient/` scope keeps even those to the patient: patient-context.ts). Everyone else is
 * limited, also a token with no teams and no organisation (it sees the shared types only):
 * forgetting to register teams must fail closed, never open.
 */
export function compartmentOf(principal: Principal): Compartment | undefined {
  if (principal.kind === 'development') return undefined;
  const patient = patientLimitOf(principal);
  const allTeams = principal.teams.includes(ALL_TEAMS);
  if (allTeams && !patient) return undefined;
  return new Compartment({
    allTeams,
    patient,
    sharedTypes: SHARED_TYPES,
    teams: principal.teams,
    teamIdentifierSystem: PATHWAY.teamId,
    // already `Practitioner/[id]`: the bearer check keeps only that part of the fhirUser claim
    holders: principal.kind === 'user' && principal.fhirUser ? [principal.fhirUser] : [],
    // a sending system's referrals; a user's organisation is their employer, not a sender
    sender: principal.kind === 'client' && principal.organisation ? { system: IDENTIFIER.ods, code: principal.organisation } : undefined,
  });
}

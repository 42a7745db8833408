import type { CarePlan, CareTeam, CareTeamParticipant, Reference } from '@medplum/fhirtypes';
import { parseSearch } from '../../fhir/search/parse.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { localId } from '../referral-context.js';
import { CARE, CareTeamRole } from './codes.js';

/** Whether a participant holds the accountable-lead role (care-team-role#accountable-lead). */
export function isAccountableLead(p: CareTeamParticipant): boolean {
  return p.role?.some((r) => r.coding?.some((c) => c.system === CARE.careTeamRole && c.code === CareTeamRole.accountableLead)) ?? false;
}

/** The participants of a care team that hold the accountable-lead role (one on an active plan's team). */
export function accountableLeads(team: CareTeam): CareTeamParticipant[] {
  return (team.participant ?? []).filter(isAccountableLead);
}

/** The accountable lead of a care team, when it has exactly one. */
export function accountableLeadOf(team: CareTeam): Reference | undefined {
  const leads = accountableLeads(team);
  return leads.length === 1 ? leads[0].member : undefined;
}

/**
 * The person's active care plan (the most recently changed, should there ever be two). A search of
 * one, sorted: `store.matches` drops the sort (it only tells none, one and several apart).
 */
export async function findActiveCarePlan(store: ResourceStore, patientId: string): Promise<CarePlan | undefined> {
  const page = await store.search(parseSearch('CarePlan', [['subject', `Patient/${patientId}`], ['status', 'active'], ['_sort', '-_lastUpdated'], ['_count', '1'], ['_total', 'none']]));
  return page.matches[0] as CarePlan | undefined;
}

/** The care team of a care plan (its first CarePlan.careTeam that is stored here). */
export async function careTeamOf(store: ResourceStore, plan: CarePlan): Promise<CareTeam | undefined> {
  for (const ref of plan.careTeam ?? []) {
    const id = localId(ref, 'CareTeam');
    const team = id ? await store.readOrUndefined('CareTeam', id) : undefined;
    if (team) return team as CareTeam;
  }
  return undefined;
}

/** The accountable lead of the person's active care plan, if they have one. */
export async function accountableLeadOfPatient(store: ResourceStore, patientId: string): Promise<Reference | undefined> {
  const plan = await findActiveCarePlan(store, patientId);
  const team = plan ? await careTeamOf(store, plan) : undefined;
  return team ? accountableLeadOf(team) : undefined;
}

/** A participant entry holding the accountable-lead role. */
export function leadParticipant(member: Reference, start: string): CareTeamParticipant {
  return {
    role: [{ coding: [{ system: CARE.careTeamRole, code: CareTeamRole.accountableLead, display: 'Accountable lead professional' }] }],
    member: member as CareTeamParticipant['member'],
    period: { start },
  };
}

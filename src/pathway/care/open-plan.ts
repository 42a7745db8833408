import type { CarePlan, CareTeam, CodeableConcept, Reference } from '@medplum/fhirtypes';
import { STEPWISE_CANONICAL_BASE } from '../../fhir/canonical.js';
import { PATHWAY } from '../codes.js';
import type { PolicyContext } from '../write-policies.js';
import { accountableLeads, careTeamOf, findActiveCarePlan, isAccountableLead, leadParticipant } from './care-team.js';
import { CARE, CareTeamRole } from './codes.js';

export interface PlanOpening {
  patient: Reference;
  level: string;
  /** Who becomes the accountable lead (a team or a named professional). */
  lead: Reference;
  /** The lead's professional role, when known (the rule's lead-role). */
  leadRole?: CodeableConcept;
  /** What opened or changed the plan (a triage Task, an escalation): kept in CarePlan.supportingInfo. */
  because: Reference;
  /** An existing plan keeps its lead (a step-up changes the level, not who is accountable). */
  keepLead?: boolean;
}

export interface PlanChange {
  plan: CarePlan;
  /** false when the plan already carried `because` (nothing was written). */
  changed: boolean;
}

/**
 * Opens the person's care plan at a level of support with its lead, or moves their active plan to
 * that level and lead: a CareTeam with the one accountable lead, then the CarePlan, written through
 * the policies in the caller's transaction. Once per `because`: a plan that already lists it in
 * supportingInfo is left as it is (a re-save of a completed triage changes nothing).
 */
export async function openOrUpdatePlan(ctx: PolicyContext, opening: PlanOpening): Promise<PlanChange> {
  const patientId = opening.patient.reference!.replace(/^Patient\//, '');
  await ctx.store.lock(`care-plan:Patient/${patientId}`);
  const plan = await findActiveCarePlan(ctx.store, patientId);
  if (!plan) return { plan: await openPlan(ctx, opening), changed: true };
  if (plan.supportingInfo?.some((r) => r.reference === opening.because.reference)) return { plan, changed: false };
  const team = opening.keepLead ? undefined : await careTeamOf(ctx.store, plan);
  if (team) await moveLead(ctx, team, opening.lead, opening.leadRole);
  const levelChanged = levelCode(plan) !== opening.level;
  const next: CarePlan = {
    ...plan,
    category: [levelCategory(opening.level), ...(plan.category ?? []).filter((c) => !c.coding?.some((x) => x.system === PATHWAY.levelOfSupport))],
    ...(levelChanged ? { period: { ...plan.period, start: ctx.now.toISOString() } } : {}),
    supportingInfo: [...(plan.supportingInfo ?? []), opening.because],
  };
  return { plan: (await ctx.update(next)).resource, changed: true };
}

async function openPlan(ctx: PolicyContext, o: PlanOpening): Promise<CarePlan> {
  const now = ctx.now.toISOString();
  const participant = leadParticipant(o.lead, now);
  if (o.leadRole) participant.role!.push(o.leadRole);
  const team = await ctx.create<CareTeam>({
    resourceType: 'CareTeam',
    status: 'active',
    name: 'Care team',
    subject: o.patient as CareTeam['subject'],
    period: { start: now },
    participant: [participant],
    ...(o.lead.reference?.startsWith('Organization/') ? { managingOrganization: [o.lead as Reference<never>] } : {}),
  });
  return ctx.create<CarePlan>({
    resourceType: 'CarePlan',
    meta: { profile: [`${STEPWISE_CANONICAL_BASE}/StructureDefinition/StepwiseCarePlan`] },
    status: 'active',
    intent: 'plan',
    category: [levelCategory(o.level)],
    subject: o.patient as CarePlan['subject'],
    period: { start: now },
    careTeam: [{ reference: `CareTeam/${team.id}` }],
    supportingInfo: [o.because],
  });
}

/**
 * Makes `lead` the one accountable lead of the team, in one write: the previous lead stays on the
 * team as a member, their lead period ended now. Nothing is written when `lead` already leads.
 */
export async function moveLead(ctx: PolicyContext, team: CareTeam, lead: Reference, leadRole?: CodeableConcept): Promise<CareTeam> {
  const current = accountableLeads(team);
  if (current.length === 1 && current[0].member?.reference === lead.reference) return team;
  const now = ctx.now.toISOString();
  const demoted = (team.participant ?? []).map((p) =>
    isAccountableLead(p)
      ? { ...p, role: [{ coding: [{ system: CARE.careTeamRole, code: CareTeamRole.member, display: 'Member' }] }], period: { ...p.period, end: now } }
      : p,
  );
  const participant = leadParticipant(lead, now);
  if (leadRole) participant.role!.push(leadRole);
  const next: CareTeam = { ...team, participant: [...demoted, participant] };
  return (await ctx.update(next, { ifMatch: Number(team.meta?.versionId) })).resource;
}

function levelCategory(level: string): CodeableConcept {
  return { coding: [{ system: PATHWAY.levelOfSupport, code: level }] };
}

export function levelCode(plan: CarePlan): string | undefined {
  return plan.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === PATHWAY.levelOfSupport)?.code;
}

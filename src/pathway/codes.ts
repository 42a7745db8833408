import { STEPWISE_CANONICAL_BASE } from '../fhir/canonical.js';

/**
 * Code systems and identifiers of the Stepwise pathway. Those of profiles/published (task codes,
 * triage status, level of support, minimum dataset, task parameter types) are used as published;
 * triage-indicator, lead-role and redirect-output are published with the rules (profiles/rules).
 */
const BASE = STEPWISE_CANONICAL_BASE;

export const PATHWAY = {
  /** What a Task is for: triage, clarify-referral (published); senior-oversight (not yet published). */
  taskCode: `${BASE}/CodeSystem/task-code`,
  /** Task.input / Task.output types: missing-mds-item, triage-outcome. */
  taskParameterType: `${BASE}/CodeSystem/task-parameter-type`,
  /** Task.businessStatus: awaiting-triage, awaiting-information, senior-oversight, triaged, redirected. */
  triageStatus: `${BASE}/CodeSystem/triage-status`,
  /** Levels of support (domain.md) and redirected. */
  levelOfSupport: `${BASE}/CodeSystem/level-of-support`,
  /** Findings the referral carries that the threshold rules read (imminent-risk, reduced-sleep, …). */
  indicator: `${BASE}/CodeSystem/triage-indicator`,
  /** The minimum dataset items, as named in gaps (also RiskAssessment.prediction.outcome for the three risks). */
  mdsItem: `${BASE}/CodeSystem/minimum-dataset`,
  /** The role of the lead professional a rule assigns (Task.performerType). */
  leadRole: `${BASE}/CodeSystem/lead-role`,
  /** Task.output types of a completed redirect. */
  redirectOutput: `${BASE}/CodeSystem/redirect-output`,
  /** The team a pathway Task belongs to, kept while a person holds it (valueReference Organization; tasks/team.ts). */
  taskTeam: `${BASE}/StructureDefinition/task-team`,
  /** Organization.identifier of a Stepwise team. */
  teamId: `${BASE}/Id/team`,
  /** Minutes from receipt (authoredOn) to completion of triage, on a completed triage Task. */
  timeToTriage: `${BASE}/StructureDefinition/time-to-triage`,
  /** The rule, rule-set version and rationale of a decision, on its Provenance. */
  triageDecision: `${BASE}/StructureDefinition/triage-decision`,
  planDefinition: `${BASE}/PlanDefinition`,
} as const;

/** Every code of the published task-code CodeSystem, one definition (test/pathway/task-codes.test.ts checks they agree). */
export const TaskCode = {
  triage: 'triage',
  clarify: 'clarify-referral',
  /** No longer created: a borderline referral's triage Task is itself the senior oversight. */
  seniorOversight: 'senior-oversight',
  /** A handover (step-down): sending lead → receiving team. */
  handover: 'transfer-of-responsibility',
  /** A contact a care plan's cadence asks for; the kind of contact is in Task.reasonCode. */
  contact: 'contact',
  carePlanReview: 'care-plan-review',
  outreachCall: 'outreach-call',
  outreachHomeVisit: 'outreach-home-visit',
  outreachPartnerContact: 'outreach-partner-contact',
  escalation: 'escalation',
  /** The receiving lead's first contact after crisis care (due within the configured hours, default 72). */
  firstContact: 'first-contact',
} as const;
export type TaskCode = (typeof TaskCode)[keyof typeof TaskCode];

export const TriageStatus = {
  awaitingTriage: 'awaiting-triage',
  awaitingInformation: 'awaiting-information',
  seniorOversight: 'senior-oversight',
  triaged: 'triaged',
  redirected: 'redirected',
} as const;
export type TriageStatus = (typeof TriageStatus)[keyof typeof TriageStatus];

/** The id of the front-door team's Organization, seeded at start-up (seed-rules.ts). */
export const FRONT_DOOR_TEAM_ID = 'front-door-team';

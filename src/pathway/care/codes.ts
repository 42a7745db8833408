import { STEPWISE_CANONICAL_BASE } from '../../fhir/canonical.js';

/**
 * Code systems and extensions of care plans, risk flags, step-up and handover (published in
 * profiles/source). Those shared with the front door (task-code, task-parameter-type,
 * level-of-support) are in ../codes.ts.
 */
const BASE = STEPWISE_CANONICAL_BASE;

export const CARE = {
  /** CareTeam.participant.role: accountable-lead (exactly one on an active plan's team), member. */
  careTeamRole: `${BASE}/CodeSystem/care-team-role`,
  /** CarePlan.activity.detail.code of a cadence: weekly-wellbeing-contact, monthly-structured-review, … */
  careActivity: `${BASE}/CodeSystem/care-activity`,
  /** CarePlan extension: the date the plan is next reviewed (valueDate or valueDateTime). */
  reviewDate: `${BASE}/StructureDefinition/care-plan-review-date`,
  /** Flag categories: relapse-signature, safeguarding, medication, self-neglect-housing, substance-use, disengagement. */
  riskFlagCategory: `${BASE}/CodeSystem/risk-flag-category`,
  /** Core flag-priority extension and its codes: PH (high) drives a same-day escalation. */
  flagPriority: 'http://hl7.org/fhir/StructureDefinition/flag-priority',
  flagPriorityCode: 'http://hl7.org/fhir/flag-priority-code',
  /** Task.identifier of an escalation the server opened: its value is the focus reference (the key of "exactly one"). */
  escalationKey: `${BASE}/Id/same-day-escalation`,
  /** Handover checklist items (Task.input types of a handover). */
  handoverChecklist: `${BASE}/CodeSystem/handover-checklist`,
} as const;

export const CareTeamRole = { accountableLead: 'accountable-lead', member: 'member' } as const;

export const CareActivity = {
  weeklyWellbeingContact: 'weekly-wellbeing-contact',
  monthlyStructuredReview: 'monthly-structured-review',
  firstContactAfterCrisis: 'first-contact-after-crisis',
  taperingContact: 'tapering-contact',
} as const;


import { endOfLondonDay } from '../risk/same-day.js';
import { TaskCode } from '../codes.js';
import { addWorkingDays } from '../working-days.js';

/** An outreach attempt: a Task of this code, due by `due(failedAt)`, the instant the step before it failed. */
export interface OutreachAttempt {
  kind: 'attempt';
  code: string;
  display: string;
  due(failedAt: Date): Date;
}

/** The last step: a same-day escalation, when the person has risk indicators (risk-indicators.ts). */
export interface OutreachEscalation {
  kind: 'escalation';
  display: string;
}

export type OutreachStep = OutreachAttempt | OutreachEscalation;

/**
 * The outreach ladder after a missed contact, in order (domain.md, "Ongoing care and relapse
 * prevention"; seed 000: "same day call, next day home visit attempt, partner contact where
 * appropriate, then escalation if risk indicators are present"). Each step is taken when the one
 * before it fails: the missed contact starts step 0, a failed step i starts step i + 1. A step not
 * done by its due time fails then (a scheduler job). The "next day" is the next working day.
 */
export const OUTREACH_LADDER: readonly OutreachStep[] = [
  { kind: 'attempt', code: TaskCode.outreachCall, display: 'Same-day call', due: (failedAt) => endOfLondonDay(failedAt) },
  { kind: 'attempt', code: TaskCode.outreachHomeVisit, display: 'Next-day home visit attempt', due: (failedAt) => endOfLondonDay(addWorkingDays(failedAt, 1)) },
  { kind: 'attempt', code: TaskCode.outreachPartnerContact, display: 'Partner contact', due: (failedAt) => endOfLondonDay(addWorkingDays(failedAt, 1)) },
  { kind: 'escalation', display: 'Same-day escalation, if risk indicators are present' },
];

/** The index of an attempt's Task code in the ladder, or -1. */
export function ladderIndex(code: string): number {
  return OUTREACH_LADDER.findIndex((s) => s.kind === 'attempt' && s.code === code);
}

import type { Flag, Reference, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { findTriageTask } from '../front-door.js';
import type { WritePolicy } from '../write-policies.js';
import { openSameDayEscalation, type SameDayEscalationArgs } from './escalation.js';
import { isHighRiskFlag, riskDomainOf, severityIssues } from './risk-flag.js';
import { unprocessable } from '../care/care-plan-rules.js';

/** A Flag in one of the pathway's risk domains; other flags (a BaRS scene-safety flag) are information. */
function isRiskFlag(flag: Resource): boolean {
  return riskDomainOf(flag as Flag) !== undefined;
}

/**
 * A red flag at the front door opens exactly one same-day escalation. Messaging plans it into a
 * new referral's statement with the admission (messaging/processor.ts), so it skips this policy.
 */
export const RED_FLAG_POLICY: WritePolicy = {
  name: 'a red flag at the front door opens exactly one same-day escalation',
  types: ['ServiceRequest'],
  after: async (written, ctx) => {
    const referral = written as ServiceRequest;
    const args = redFlagEscalation(referral, await findTriageTask(ctx.store, referral.id!));
    if (args) await openSameDayEscalation(ctx, args);
  },
};

/** Risk flags and red flags (domain.md, Step-up: high-risk indicators need a same-day welfare response). */
export const RISK_POLICIES: readonly WritePolicy[] = [
  {
    name: 'a risk flag has a known risk domain and severity',
    types: ['Flag'],
    applies: isRiskFlag,
    before: (next) => {
      const issues = severityIssues(next as Flag);
      if (issues.length) throw unprocessable(issues);
      return next;
    },
  },
  {
    name: 'a high-risk flag opens exactly one same-day escalation to the named clinician',
    types: ['Flag'],
    applies: isRiskFlag,
    after: async (written, ctx) => {
      const flag = written as Flag;
      if (!isHighRiskFlag(flag) || !flag.subject?.reference?.startsWith('Patient/')) return;
      await openSameDayEscalation(ctx, {
        patient: flag.subject,
        focus: { reference: `Flag/${flag.id}` },
        reason: `High-risk ${riskDomainOf(flag)?.display ?? riskDomainOf(flag)?.code ?? 'risk'} flag: ${flag.code?.text ?? flag.code?.coding?.[0]?.display ?? 'no detail recorded'}`,
        currentRisks: flag.code?.text,
        clinician: namedClinician(flag.author),
      });
    },
  },
  RED_FLAG_POLICY,
];

/** Flag.author when it names a professional (a Practitioner or PractitionerRole), not a team or device. */
function namedClinician(author: Reference | undefined): Reference | undefined {
  return author?.reference && /^(Practitioner|PractitionerRole)\//.test(author.reference) ? author : undefined;
}

/**
 * The same-day escalation a red-flag referral needs (the rules give stat priority to a red flag
 * only: README, "Same-day response"), given its triage Task; undefined for any other referral.
 */
export function redFlagEscalation(referral: ServiceRequest, triage: Task | undefined): SameDayEscalationArgs | undefined {
  if (triage?.priority !== 'stat' || !referral.subject?.reference?.startsWith('Patient/')) return undefined;
  return {
    patient: referral.subject,
    focus: { reference: `ServiceRequest/${referral.id}` },
    reason: `Red flag at the front door: ${triage.description ?? 'imminent risk'}`,
    team: triage.owner,
  };
}

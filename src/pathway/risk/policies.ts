import type { Flag, Reference, ServiceRequest } from '@medplum/fhirtypes';
import { findTriageTask } from '../front-door.js';
import type { WritePolicy } from '../write-policies.js';
import { openSameDayEscalation } from './escalation.js';
import { isHighRiskFlag, riskDomainOf, severityIssues } from './risk-flag.js';
import { unprocessable } from '../care/care-plan-rules.js';

/** Risk flags and red flags (domain.md, Step-up: high-risk indicators need a same-day welfare response). */
export const RISK_POLICIES: readonly WritePolicy[] = [
  {
    name: 'a risk flag has a known risk domain and severity',
    types: ['Flag'],
    before: (next) => {
      const issues = severityIssues(next as Flag);
      if (issues.length) throw unprocessable(issues);
      return next;
    },
  },
  {
    name: 'a high-risk flag opens exactly one same-day escalation to the named clinician',
    types: ['Flag'],
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
  {
    name: 'a red flag at the front door opens exactly one same-day escalation',
    types: ['ServiceRequest'],
    after: async (written, ctx) => {
      const referral = written as ServiceRequest;
      const triage = await findTriageTask(ctx.store, referral.id!);
      // the rules give stat priority to a red flag only (README, "Same-day response")
      if (triage?.priority !== 'stat' || !referral.subject?.reference?.startsWith('Patient/')) return;
      await openSameDayEscalation(ctx, {
        patient: referral.subject,
        focus: { reference: `ServiceRequest/${referral.id}` },
        reason: `Red flag at the front door: ${triage.description ?? 'imminent risk'}`,
        team: triage.owner,
      });
    },
  },
];

/** Flag.author when it names a professional (a Practitioner or PractitionerRole), not a team or device. */
function namedClinician(author: Reference | undefined): Reference | undefined {
  return author?.reference && /^(Practitioner|PractitionerRole)\//.test(author.reference) ? author : undefined;
}

import type { Coding, Flag } from '@medplum/fhirtypes';
import type { IssueInit } from '../../errors.js';
import { issue } from '../care/care-plan-rules.js';
import { CARE } from '../care/codes.js';

/** The risk domains of risk-flag-category (domain.md, FHIR shape: risk flag). */
export const RISK_DOMAINS = ['relapse-signature', 'safeguarding', 'medication', 'self-neglect-housing', 'substance-use', 'disengagement'] as const;

/** Severity is the core flag-priority extension (StepwiseRiskFlag): PN none, PL low, PM medium, PH high. */
export const SEVERITIES = ['PN', 'PL', 'PM', 'PH'] as const;

export function riskDomainOf(flag: Flag): Coding | undefined {
  return flag.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === CARE.riskFlagCategory);
}

export function severityOf(flag: Flag): string | undefined {
  const ext = flag.extension?.find((e) => e.url === CARE.flagPriority);
  return ext?.valueCodeableConcept?.coding?.find((c) => c.system === CARE.flagPriorityCode)?.code;
}

/** An active flag in a risk domain rated PH: it drives a same-day escalation. */
export function isHighRiskFlag(flag: Flag): boolean {
  return flag.status === 'active' && riskDomainOf(flag) !== undefined && severityOf(flag) === 'PH';
}

/** A risk flag's domain is one of the six, and its severity, when given, is a flag-priority code. */
export function severityIssues(flag: Flag): IssueInit[] {
  const out: IssueInit[] = [];
  const domain = riskDomainOf(flag);
  if (domain && !(RISK_DOMAINS as readonly string[]).includes(domain.code ?? '')) {
    out.push(issue('Flag.category', `'${domain.code}' is not a risk domain of ${CARE.riskFlagCategory} (one of ${RISK_DOMAINS.join(', ')})`));
  }
  const ext = flag.extension?.find((e) => e.url === CARE.flagPriority);
  if (ext && !(SEVERITIES as readonly string[]).includes(severityOf(flag) ?? '')) {
    out.push(issue(`Flag.extension('${CARE.flagPriority}')`, `The severity is a ${CARE.flagPriorityCode} code (${SEVERITIES.join(', ')}) in valueCodeableConcept`));
  }
  return out;
}

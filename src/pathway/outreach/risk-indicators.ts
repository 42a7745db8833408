import type { CodeableConcept, Flag, RiskAssessment } from '@medplum/fhirtypes';
import { parseSearch } from '../../fhir/search/parse.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { PATHWAY } from '../codes.js';
import { riskDomainOf, severityOf } from '../risk/risk-flag.js';

/** The red-flag indicator of the front door's rules (triage-indicator), on a Flag of the person. */
const RED_FLAG = 'imminent-risk';
const RISK_PROBABILITY = 'http://terminology.hl7.org/CodeSystem/risk-probability';

/**
 * The risk indicators that make the outreach ladder end in a same-day escalation, each in words:
 * an active Flag of high priority (flag-priority PH) or carrying the red flag (imminent-risk), or
 * a current RiskAssessment rating any risk high. None: the ladder ends with the partner contact.
 */
export async function riskIndicators(store: ResourceStore, patientId: string): Promise<string[]> {
  const patient = `Patient/${patientId}`;
  const flags = (await store.search(parseSearch('Flag', [['patient', patient], ['status', 'active'], ['_count', '100']]))).matches as Flag[];
  const assessments = (await store.search(parseSearch('RiskAssessment', [['subject', patient], ['_count', '100']]))).matches as RiskAssessment[];
  const found: string[] = [];
  for (const flag of flags) {
    if (severityOf(flag) === 'PH') found.push(`high-risk ${riskDomainOf(flag)?.display ?? riskDomainOf(flag)?.code ?? ''} flag: ${describe(flag.code) ?? `Flag/${flag.id}`}`.replace('  ', ' '));
    else if (hasCode(flag.code, PATHWAY.indicator, RED_FLAG)) found.push(`red flag: ${describe(flag.code) ?? RED_FLAG}`);
  }
  for (const ra of assessments) {
    if (ra.status === 'entered-in-error' || ra.status === 'cancelled') continue;
    if (ra.prediction?.some((p) => hasCode(p.qualitativeRisk, RISK_PROBABILITY, 'high'))) found.push(`risk assessment rating a risk high (RiskAssessment/${ra.id})`);
  }
  return found;
}

function hasCode(cc: CodeableConcept | undefined, system: string, code: string): boolean {
  return cc?.coding?.some((c) => c.system === system && c.code === code) ?? false;
}

function describe(cc: CodeableConcept | undefined): string | undefined {
  return cc?.text ?? cc?.coding?.[0]?.display ?? cc?.coding?.[0]?.code;
}

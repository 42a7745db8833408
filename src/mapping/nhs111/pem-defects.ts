import type { ConceptMap, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describeNhsNumberProblem } from '../../fhir/nhs-number.js';
import type { Nhs111Pem, PemCode, PemLocations, PemTelecom } from './pem-model.js';
import { PEM_OID } from './pem-reader.js';

/** The code systems (OIDs) each coded element of the PEM is written in (NHS CfH OID register). */
const EXPECTED_SYSTEMS: Record<string, { oids: string[]; name: string }> = {
  'informant.relationship': { oids: ['2.16.840.1.113883.2.1.3.2.4.16.45'], name: 'NHS person relationship type' },
  'encounter.disposition': { oids: ['2.16.840.1.113883.2.1.3.2.4.17.325'], name: 'NHS 111 disposition (NHS Pathways Dx code)' },
  'consent.code': { oids: [PEM_OID.snomed], name: 'SNOMED CT' },
  discriminators: { oids: [PEM_OID.snomed, '2.16.840.1.113883.2.1.3.2.4.24'], name: 'SNOMED CT or NHS Pathways Dx codes' },
};

/**
 * Code systems the NHS has retired that senders still write. Read Codes (v2 and CTV3) were
 * withdrawn in favour of SNOMED CT (primary care from April 2018, secondary care from April 2020).
 */
const RETIRED_SYSTEMS: Record<string, string> = {
  '2.16.840.1.113883.2.1.6.2': 'Read Codes version 2',
  '2.16.840.1.113883.2.1.3.2.4.14': 'Clinical Terms Version 3 (CTV3, Read Codes)',
};

export interface PemConceptMaps {
  dispositionPriority: ConceptMap;
  gender: ConceptMap;
  telecomUse: ConceptMap;
}

/**
 * Step 2 of nhs111-pem (code: the mapping language has no way to report): what the message says
 * that is wrong or that cannot be mapped, each as a warning naming its place in the source. The
 * message is still mapped: a referral is never refused for what it says about the person.
 */
export function pemDefects(pem: Nhs111Pem, at: PemLocations, maps: PemConceptMaps): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const warn = (field: string, code: OperationOutcomeIssue['code'], diagnostics: string): void => {
    issues.push({ severity: 'warning', code, diagnostics, details: { text: diagnostics }, ...(at.get(field) ? { expression: [at.get(field)!] } : {}) });
  };

  const nhsNumber = pem.patient?.nhsNumber;
  const problem = nhsNumber === undefined ? undefined : describeNhsNumberProblem(nhsNumber);
  if (problem) warn('patient.nhsNumber', 'value', `NHS number '${nhsNumber}': ${problem}; mapped as sent, never used to match a person`);

  const codes: [string, PemCode | undefined][] = [
    ['informant.relationship', pem.informant?.relationship],
    ['encounter.disposition', pem.encounter?.disposition],
    ['consent.code', pem.consent?.code],
    ...(pem.discriminators ?? []).map((d, i): [string, PemCode] => [`discriminators[${i}]`, d]),
  ];
  for (const [field, code] of codes) {
    if (!code?.codeSystem) continue;
    const expected = EXPECTED_SYSTEMS[field.replace(/\[\d+\]$/, '')];
    const where = `${field}.codeSystem`;
    const retired = RETIRED_SYSTEMS[code.codeSystem];
    if (retired) warn(where, 'code-invalid', `Code ${code.code} is from ${retired} (${code.codeSystem}), a retired code system; expected ${expected.name}: not mapped`);
    else if (!expected.oids.includes(code.codeSystem)) warn(where, 'code-invalid', `Code system ${code.codeSystem} is not ${expected.name} (${expected.oids.join(' or ')}): code ${code.code} not mapped`);
  }

  const disposition = pem.encounter?.disposition;
  if (disposition && !conceptMapTarget(maps.dispositionPriority, disposition.code)) {
    warn('encounter.disposition.code', 'code-invalid', `Disposition ${disposition.code}${disposition.displayName ? ` (${disposition.displayName})` : ''} is not one Stepwise knows the urgency of (ConceptMap ${maps.dispositionPriority.url}): the referral's priority is not set, and the front door names it as missing`);
  }
  const gender = pem.patient?.gender;
  if (gender !== undefined && !conceptMapTarget(maps.gender, gender)) {
    warn('patient.gender', 'code-invalid', `Gender code '${gender}' is not an NHS person gender code (1, 2, 9, 0, X): not mapped`);
  }
  telecomDefects('patient.telecom', pem.patient?.telecom, maps, warn);
  telecomDefects('informant.telecom', pem.informant?.telecom, maps, warn);
  telecomDefects('callback.telecom', pem.callback?.telecom, maps, warn);
  telecomDefects('patient.gpPractice.telecom', pem.patient?.gpPractice?.telecom, maps, warn);
  telecomDefects('author.organization.telecom', pem.author?.organization?.telecom, maps, warn);
  return issues;
}

function telecomDefects(
  field: string,
  list: PemTelecom[] | undefined,
  maps: PemConceptMaps,
  warn: (field: string, code: OperationOutcomeIssue['code'], diagnostics: string) => void,
): void {
  list?.forEach((t, i) => {
    if (!/^(tel|mailto):/.test(t.value)) warn(`${field}[${i}]`, 'value', `Telecom '${t.value}' is neither a tel: nor a mailto: URL: mapped as a url`);
    if (t.use && !conceptMapTarget(maps.telecomUse, t.use)) warn(`${field}[${i}]`, 'code-invalid', `Telecom use '${t.use}' has no FHIR ContactPoint use: the number is mapped without one`);
  });
}

/** The target code a ConceptMap gives `code` (its first group), or undefined when it has none. */
function conceptMapTarget(map: ConceptMap, code: string): string | undefined {
  return map.group?.[0]?.element?.find((e) => e.code === code)?.target?.[0]?.code;
}

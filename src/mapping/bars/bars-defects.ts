import type { Bundle, Identifier, OperationOutcomeIssue, Patient, Task } from '@medplum/fhirtypes';
import { describeNhsNumberProblem } from '../../fhir/nhs-number.js';
import { BARS, IDENTIFIER } from '../../messaging/bars.js';
import { CARE } from '../../pathway/care/codes.js';
import { PATHWAY } from '../../pathway/codes.js';
import { CHECKLIST_ITEMS, TRANSITION_PARTS } from '../../pathway/handover/transition.js';

const CHECKLIST = new Set<string>(CHECKLIST_ITEMS.map((i) => i.code));
/** Task input types a handover carries: the transition plan's parts and the plan itself. */
const TRANSITION = new Set<string>([...TRANSITION_PARTS.map((p) => p.code), 'transition-plan']);

/**
 * Step in code "name the defects" of a BaRS message (the language has no channel for issues): an
 * NHS number failing Modulus 11, the retired UK Core NHS number verification code system that BaRS
 * examples still use, and handover checklist or transition-plan codes outside their code systems.
 * Each is a warning at its FHIRPath in the message; nothing is refused for what it says.
 */
export function barsDefects(bundle: Bundle): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const warn = (expression: string, code: OperationOutcomeIssue['code'], diagnostics: string): void => {
    issues.push({ severity: 'warning', code, diagnostics, details: { text: diagnostics }, expression: [expression] });
  };
  (bundle.entry ?? []).forEach((entry, i) => {
    const at = `Bundle.entry[${i}].resource`;
    const resource = entry.resource;
    if (resource?.resourceType === 'Patient') patientDefects(resource as Patient, at, warn);
    if (resource?.resourceType === 'Task') handoverDefects(resource as Task, at, warn);
  });
  return issues;
}

type Warn = (expression: string, code: OperationOutcomeIssue['code'], diagnostics: string) => void;

function patientDefects(patient: Patient, at: string, warn: Warn): void {
  (patient.identifier ?? []).forEach((id: Identifier, j) => {
    if (id.system !== IDENTIFIER.nhsNumber) return;
    const problem = id.value === undefined ? 'no value' : describeNhsNumberProblem(id.value);
    if (problem) warn(`${at}.identifier[${j}].value`, 'value', `NHS number '${id.value ?? ''}': ${problem}; carried as sent, never used to match a person`);
    (id.extension ?? []).forEach((x, k) => {
      x.valueCodeableConcept?.coding?.forEach((c, m) => {
        if (x.url === BARS.nhsNumberVerification && c.system === BARS.retiredVerificationSystem) {
          warn(
            `${at}.identifier[${j}].extension[${k}].valueCodeableConcept.coding[${m}].system`,
            'code-invalid',
            `${c.system} is a retired code system; UK Core uses ${BARS.verificationSystem} (code '${c.code}' carried as sent)`,
          );
        }
      });
    });
  });
}

function handoverDefects(task: Task, at: string, warn: Warn): void {
  (task.input ?? []).forEach((input, j) => {
    input.type?.coding?.forEach((c, k) => {
      const where = `${at}.input[${j}].type.coding[${k}].code`;
      if (c.system === CARE.handoverChecklist && !CHECKLIST.has(c.code ?? '')) {
        warn(where, 'code-invalid', `'${c.code}' is not in ${CARE.handoverChecklist} (${[...CHECKLIST].join(', ')}): carried, but no checklist item is done by it`);
      }
      if (c.system === PATHWAY.taskParameterType && !TRANSITION.has(c.code ?? '') && task.code?.coding?.some((t) => t.code === 'transfer-of-responsibility')) {
        warn(where, 'code-invalid', `'${c.code}' is not a part of a handover's transition plan (${[...TRANSITION].join(', ')}): carried as sent`);
      }
    });
  });
}

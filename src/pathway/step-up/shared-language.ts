import type { Task, TaskInput } from '@medplum/fhirtypes';
import { PATHWAY } from '../codes.js';

/**
 * The four parts of an escalation's shared language (domain.md, Step-up): Task.input typed by
 * task-parameter-type codes, each a valueString.
 */
export const SharedLanguage = {
  whatHasChanged: 'what-has-changed',
  currentRisks: 'current-risks',
  protectiveFactors: 'protective-factors',
  alreadyTried: 'already-tried',
} as const;
export type SharedLanguage = (typeof SharedLanguage)[keyof typeof SharedLanguage];

export const SHARED_LANGUAGE_PARTS: readonly { code: SharedLanguage; display: string }[] = [
  { code: SharedLanguage.whatHasChanged, display: 'What has changed' },
  { code: SharedLanguage.currentRisks, display: 'Current risks' },
  { code: SharedLanguage.protectiveFactors, display: 'Protective factors' },
  { code: SharedLanguage.alreadyTried, display: 'What has already been tried' },
];

export function sharedLanguageInput(code: SharedLanguage, text: string): TaskInput {
  const display = SHARED_LANGUAGE_PARTS.find((p) => p.code === code)?.display;
  return { type: { coding: [{ system: PATHWAY.taskParameterType, code, display }] }, valueString: text };
}

/** The parts of the shared language an escalation lacks (absent, or with blank text). */
export function missingSharedLanguage(task: Task): { code: SharedLanguage; display: string }[] {
  return SHARED_LANGUAGE_PARTS.filter((part) => !task.input?.some((i) => hasType(i, part.code) && i.valueString?.trim()));
}

function hasType(i: TaskInput, code: string): boolean {
  return i.type.coding?.some((c) => c.system === PATHWAY.taskParameterType && c.code === code) ?? false;
}

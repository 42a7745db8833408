import { readFileSync } from 'node:fs';
import type { CodeSystem, ConceptMap, PlanDefinition } from '@medplum/fhirtypes';
import { expandCanonicalPlaceholder } from '../fhir/canonical.js';

/**
 * The published pathway rules in profiles/rules/: JSON with the `${canonical}` placeholder of
 * profiles/source, expanded to the Stepwise canonical base when read.
 */
const RULES_DIR = new URL('../../profiles/rules/', import.meta.url);

export function readRulesFile<T>(file: string): T {
  return JSON.parse(expandCanonicalPlaceholder(readFileSync(new URL(file, RULES_DIR), 'utf8'))) as T;
}

export const TRIAGE_RULES_FILE = 'PlanDefinition-front-door-triage.json';
export const MINIMUM_DATASET_FILE = 'minimum-dataset.json';
/** SNOMED CT, BaRS safeguarding and risk-probability codes → triage-indicator (the rules read it). */
export const INDICATOR_CONCEPT_MAP_FILE = 'ConceptMap-triage-indicator.json';
/** The red-flag phrases read in a referral's own words (not a FHIR resource, like the MDS). */
export const RED_FLAG_TEXT_FILE = 'red-flag-text.json';
export const RULE_CODE_SYSTEM_FILES = ['CodeSystem-triage-indicator.json', 'CodeSystem-lead-role.json', 'CodeSystem-redirect-output.json'];

export function readTriageRules(): PlanDefinition {
  return readRulesFile<PlanDefinition>(TRIAGE_RULES_FILE);
}

export function readRuleCodeSystems(): CodeSystem[] {
  return RULE_CODE_SYSTEM_FILES.map((f) => readRulesFile<CodeSystem>(f));
}

export function readIndicatorConceptMap(): ConceptMap {
  return readRulesFile<ConceptMap>(INDICATOR_CONCEPT_MAP_FILE);
}

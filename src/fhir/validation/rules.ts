import { describeNhsNumberProblem } from '../nhs-number.js';
import { bundleDocumentRule, bundleEntryFullUrlRule, bundleMessageRule } from './bundle-rules.js';
import type { ValueCheck } from './context.js';
import type { Terminology } from './terminology.js';

/** Rules that apply to every value of a data type, wherever it appears. */
export type TypeRules = Readonly<Record<string, readonly ValueCheck[]>>;

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const CORE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/';

/** NHS numbers carry a Modulus 11 check digit (https://www.datadictionary.nhs.uk/attributes/nhs_number.html). */
export const nhsNumberRule: ValueCheck = (value, path, ctx) => {
  const identifier = value as { system?: unknown; value?: unknown };
  if (identifier.system !== NHS_NUMBER_SYSTEM || typeof identifier.value !== 'string') return;
  const problem = describeNhsNumberProblem(identifier.value);
  if (problem) ctx.issues.error('value', `${path}.value`, problem, 'nhs-number');
};

/**
 * A code from a code system we hold completely must exist in it, whatever the binding
 * (http://hl7.org/fhir/R4/datatypes.html#Coding: "the code SHALL be a code defined by the system").
 */
export function codeSystemRule(terminology: Terminology): ValueCheck {
  return (value, path, ctx) => {
    const coding = value as { system?: unknown; code?: unknown };
    if (typeof coding.system !== 'string' || typeof coding.code !== 'string') return;
    if (terminology.codeSystemHas(coding.system, coding.code) === false) {
      ctx.issues.error('code-invalid', `${path}.code`, `Code '${coding.code}' is not defined in code system ${coding.system}`);
    }
  };
}

/**
 * An extension whose definition is in the registry must conform to it. Unknown extensions from
 * outside hl7.org are allowed (http://hl7.org/fhir/R4/extensibility.html#exchange); an unknown core
 * extension URL is probably a typo and gets a warning.
 */
export const extensionDefinitionRule: ValueCheck = (value, path, ctx) => {
  const url = (value as { url?: unknown }).url;
  if (typeof url !== 'string') return;
  if (ctx.engine.checkAgainstProfile(url, value, path, ctx)) return;
  if (url.startsWith(CORE_EXTENSION)) {
    ctx.issues.warning('structure', `${path}.url`, `Extension ${url} is not a known FHIR R4 extension`);
  }
};

export function defaultTypeRules(terminology: Terminology): TypeRules {
  return {
    Identifier: [nhsNumberRule],
    Coding: [codeSystemRule(terminology)],
    Extension: [extensionDefinitionRule],
    Bundle: [bundleEntryFullUrlRule, bundleDocumentRule, bundleMessageRule],
  };
}

import { getResourceTypes } from '@medplum/core';
import { describeNhsNumberProblem } from '../nhs-number.js';
import { attachmentSizeRule } from './attachment-rules.js';
import { bundleLinkRule, bundleSearchSetRule } from './bundle-search.js';
import { bundleDocumentRule, bundleEntryFullUrlRule, bundleMessageRule } from './bundle-rules.js';
import { CANONICAL_RESOURCE_TYPES, canonicalResourceUrlRule, codingSystemRule, uriIdentifierRule, valueSetSystemRule } from './canonical-rules.js';
import { codeSystemResourceRule } from './codesystem-rules.js';
import type { ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';
import type { Terminology } from './terminology.js';
import { elementIdRule } from './element-ids.js';
import { measureCriteriaRule } from './measure-criteria.js';
import { narrativeLinkRule } from './narrative-links.js';
import { questionnaireEnableWhenRule } from './questionnaire-rules.js';
import { capabilitySearchParamRule, searchParameterDerivationRule } from './searchparameter-rules.js';
import { valueSetBooleanFilterRule } from './valueset-filter-rules.js';
import { vitalSignsRule } from './vital-signs.js';
import { valueSetParameterRule } from './valueset-parameters.js';
import { checkSubExtensionUrl, parentExtensionDefinition, reportUnknownExtension } from './unknown-extensions.js';

/** Rules that apply to every value of a data type, wherever it appears. */
export type TypeRules = Readonly<Record<string, readonly ValueCheck[]>>;

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

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
 * An extension whose definition is in the registry must conform to it. One that is not is reported
 * as the validation asks (unknown-extensions.ts); a part of a complex extension must be one its
 * extension defines.
 */
export function extensionDefinitionRule(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const url = (value as { url?: unknown }).url;
    if (typeof url !== 'string') return;
    if (ctx.engine.checkAgainstProfile(url, value, path, ctx)) return;
    if (ctx.extensionHost?.typeName === 'Extension' && !ABSOLUTE.test(url)) {
      checkSubExtensionUrl(url, parentExtensionDefinition(registry, ctx.extensionHost.value), path, ctx);
      return;
    }
    if (ABSOLUTE.test(url)) reportUnknownExtension(url, path, ctx);
  };
}

export function defaultTypeRules(terminology: Terminology, registry: ConformanceRegistry): TypeRules {
  const rules: Record<string, ValueCheck[]> = {
    Identifier: [nhsNumberRule, uriIdentifierRule],
    Attachment: [attachmentSizeRule],
    Narrative: [narrativeLinkRule],
    Coding: [codeSystemRule(terminology), codingSystemRule(registry)],
    Extension: [extensionDefinitionRule(registry)],
    Bundle: [bundleEntryFullUrlRule(registry), bundleDocumentRule, bundleMessageRule, bundleLinkRule, bundleSearchSetRule],
  };
  for (const type of CANONICAL_RESOURCE_TYPES) rules[type] = [canonicalResourceUrlRule];
  rules.ValueSet.push(valueSetSystemRule, valueSetBooleanFilterRule(registry), valueSetParameterRule);
  rules.CodeSystem.push(codeSystemResourceRule);
  rules.Questionnaire.push(questionnaireEnableWhenRule);
  rules.Measure.push(measureCriteriaRule(registry));
  rules.Observation = [vitalSignsRule(registry)];
  rules.SearchParameter.push(searchParameterDerivationRule);
  rules.CapabilityStatement.push(capabilitySearchParamRule);
  for (const type of getResourceTypes()) (rules[type] ??= []).push(elementIdRule);
  return rules;
}

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

/**
 * "The fullUrl SHALL NOT disagree with the id in the resource": a fullUrl that is not a urn: ends
 * with the resource's type and id (http://hl7.org/fhir/R4/bundle.html#bundle-unique). A warning,
 * not an error: the official R4 examples themselves break it (Bundle 10bb101f..., Patient/pat12 with
 * id pat2).
 */
export const bundleFullUrlRule: ValueCheck = (value, path, ctx) => {
  const entries = (value as { entry?: unknown }).entry;
  if (!Array.isArray(entries)) return;
  entries.forEach((entry, i) => {
    const fullUrl = (entry as { fullUrl?: unknown } | null)?.fullUrl;
    const resource = (entry as { resource?: { resourceType?: unknown; id?: unknown } } | null)?.resource;
    if (typeof fullUrl !== 'string' || fullUrl.startsWith('urn:') || typeof resource?.id !== 'string') return;
    const segments = fullUrl.replace(/\/_history\/[^/]*$/, '').split('/');
    const id = segments.at(-1);
    const type = segments.at(-2);
    if (id !== resource.id || (type !== undefined && /^[A-Z]/.test(type) && type !== resource.resourceType)) {
      ctx.issues.warning(
        'value',
        `${path}.entry[${i}].fullUrl`,
        `fullUrl ${fullUrl} disagrees with the entry's resource (${String(resource.resourceType)} with id ${resource.id}); it should end with /${String(resource.resourceType)}/${resource.id}`,
      );
    }
  });
};

export function defaultTypeRules(terminology: Terminology): TypeRules {
  return {
    Identifier: [nhsNumberRule],
    Coding: [codeSystemRule(terminology)],
    Extension: [extensionDefinitionRule],
    Bundle: [bundleFullUrlRule, bundleEntryFullUrlRule, bundleDocumentRule, bundleMessageRule],
  };
}

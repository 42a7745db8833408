/**
 * Canonical URLs of the conformance resources Stepwise publishes (profiles/). A canonical URL is
 * the stable identity of a StructureDefinition, ValueSet or CodeSystem, whether or not anything
 * answers at that address (http://hl7.org/fhir/R4/resource.html#canonical). This is the one place
 * the base is written; profiles/source refers to it as `${canonical}` and the build substitutes it.
 */
export const STEPWISE_CANONICAL_BASE = 'https://fhir.stepwise.nhs.uk';

/** Business version of every published conformance resource, and of the FHIR package. */
export const STEPWISE_CONFORMANCE_VERSION = '0.1.0';

/** Placeholder for the canonical base in profiles/source files. */
export const CANONICAL_PLACEHOLDER = '${canonical}';

export type ConformanceType = 'StructureDefinition' | 'ValueSet' | 'CodeSystem' | 'Measure';

/** `https://…/StructureDefinition/StepwiseReferral`, `https://…/ValueSet/level-of-support`, … */
export function stepwiseCanonical(type: ConformanceType, id: string): string {
  return `${STEPWISE_CANONICAL_BASE}/${type}/${id}`;
}

export const stepwiseProfileUrl = (id: string): string => stepwiseCanonical('StructureDefinition', id);
export const stepwiseValueSetUrl = (id: string): string => stepwiseCanonical('ValueSet', id);
export const stepwiseCodeSystemUrl = (id: string): string => stepwiseCanonical('CodeSystem', id);

/** Whether a canonical URL (optionally `|version`) names a Stepwise conformance resource. */
export function isStepwiseCanonical(url: string): boolean {
  return url.startsWith(STEPWISE_CANONICAL_BASE + '/');
}

/** Replaces the `${canonical}` placeholder of profiles/source text with the base URL. */
export function expandCanonicalPlaceholder(text: string): string {
  return text.replaceAll(CANONICAL_PLACEHOLDER, STEPWISE_CANONICAL_BASE);
}

import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/**
 * Corrections to the BaRS package (uk.nhsdigital.bars.r4 1.34.0), applied when its profiles are
 * loaded, each where the published profile says less than BaRS means, with the evidence. Like the
 * corrections to the R4 definitions (src/fhir/validation/corrections.ts), each is tested.
 *
 * 1. BARSServiceRequest-request-validation fixes `ServiceRequest.category.coding.system` and
 *    `.code` (message-category-servicerequest | validation) without slicing `coding`. Read strictly,
 *    every coding of the category must then be that one, which refuses the use-case coding
 *    (usecases-categories-bars) that BaRS puts beside it in the same category. Evidence: the BaRS
 *    validation request template of NHS England's receiver assurance pack
 *    (autotest_config/requests/request_templates/validation_request_template.xml: category with
 *    codings `validation` and `a4t1`), which the pack expects to be accepted; the BaRS Standard
 *    Pattern for composites ("category[1]: the use case"); and the referral profile, which leaves
 *    category.coding open. Corrected: `category.coding` is sliced by system (open), and the fixed
 *    values belong to a `messageCategory` slice of exactly one coding.
 *
 * Looked for and not found in the samples and the pack: other fixed values or closed slices that
 * senders' messages contradict. Cardinalities that senders break (a missing rank-1 contact, no
 * consent) are BaRS workflow rules the pack tests as negative cases, and stay.
 */
export const BARS_CORRECTIONS: { url: string; why: string; correct: (sd: StructureDefinition) => StructureDefinition }[] = [
  {
    url: 'https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-validation',
    why: 'category.coding fixed without slicing: the use-case coding beside it would be refused',
    correct: sliceFixedCoding('ServiceRequest.category', 'messageCategory'),
  },
];

/** Applies the corrections that concern `sd` (a copy; `sd` is not changed). */
export function correctBarsProfile(sd: StructureDefinition): StructureDefinition {
  return BARS_CORRECTIONS.filter((c) => c.url === sd.url).reduce((out, c) => c.correct(out), sd);
}

/**
 * Moves `<path>.coding.system` and `.code` fixed values into a slice of `<path>.coding`
 * discriminated by system, leaving other codings free (http://hl7.org/fhir/R4/profiling.html#slicing).
 */
function sliceFixedCoding(path: string, sliceName: string): (sd: StructureDefinition) => StructureDefinition {
  return (sd) => {
    const elements = sd.differential?.element ?? [];
    const system = elements.find((e) => e.path === `${path}.coding.system` && e.fixedUri);
    const code = elements.find((e) => e.path === `${path}.coding.code` && e.fixedCode);
    if (!system) return sd;
    const rest = elements.filter((e) => e !== system && e !== code);
    const at = rest.findIndex((e) => e.path === path) + 1;
    const slice: ElementDefinition[] = [
      { id: `${path}.coding`, path: `${path}.coding`, slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
      { id: `${path}.coding:${sliceName}`, path: `${path}.coding`, sliceName, min: 1, max: '1' },
      { id: `${path}.coding:${sliceName}.system`, path: `${path}.coding.system`, min: 1, fixedUri: system.fixedUri },
      ...(code ? [{ id: `${path}.coding:${sliceName}.code`, path: `${path}.coding.code`, min: 1, fixedCode: code.fixedCode }] : []),
    ];
    rest.splice(at, 0, ...slice);
    return { ...sd, differential: { element: rest } };
  };
}

import type { ConceptMap } from '@medplum/fhirtypes';
import type { ValueCheck } from './context.js';
import type { Terminology } from './terminology.js';

/**
 * A ConceptMap maps codes of its source value set
 * (http://hl7.org/fhir/R4/conceptmap-definitions.html#ConceptMap.source_x_: "the source value set
 * that contains the concepts that are being mapped"): a source code that the value set, expanded
 * here, certainly excludes is an error, as in the HL7 validator ("The source code '…' is not valid
 * in the value set …"). A value set we cannot expand completely excludes nothing. Target codes are
 * not checked here.
 */
export function conceptMapRule(terminology: Terminology): ValueCheck {
  return (value, path, ctx) => {
    const map = value as ConceptMap;
    const sourceUrl = map.sourceCanonical ?? map.sourceUri;
    const source = typeof sourceUrl === 'string' ? terminology.expand(sourceUrl) : undefined;
    (map.group ?? []).forEach((group, g) => {
      (group?.element ?? []).forEach((element, e) => {
        const where = `${path}.group[${g}].element[${e}]`;
        if (source && typeof element?.code === 'string' && source.has(group.source, element.code) === false) {
          ctx.issues.error('code-invalid', `${where}.code`, `The source code '${element.code}' is not valid in the value set ${sourceUrl}`);
        }
      });
    });
  };
}

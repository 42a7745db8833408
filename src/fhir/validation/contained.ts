import type { ValidationContext } from './context.js';

/**
 * Ids of contained resources (http://hl7.org/fhir/R4/references.html#contained): a contained resource
 * is only reachable by its id (`#id`), so it must have one (the HL7 validator: "Resource requires an
 * id, but none is present"), and no two resources contained in one resource may share one. Whether
 * each is referred to is dom-3 (native-invariants.ts).
 */
export function checkContainedIds(resource: Record<string, unknown>, path: string, ctx: ValidationContext): void {
  const contained = resource.contained;
  if (!Array.isArray(contained)) return;
  const seen = new Map<string, number>();
  contained.forEach((c, i) => {
    if (c === null || typeof c !== 'object' || Array.isArray(c)) return;
    const id = (c as { id?: unknown }).id;
    if (id === undefined) {
      ctx.issues.error('required', `${path}.contained[${i}]`, 'Resource requires an id, but none is present: a contained resource is referred to by its id (#id)');
      return;
    }
    if (typeof id !== 'string') return; // the id's own type check reports it
    const first = seen.get(id);
    if (first !== undefined) {
      ctx.issues.error('value', `${path}.contained[${i}].id`, `Duplicate ID for contained resource: ${id} (contained[${first}] has it too, so #${id} cannot tell them apart)`);
    } else {
      seen.set(id, i);
    }
  });
}

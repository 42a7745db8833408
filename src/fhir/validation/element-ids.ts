import type { ValidationContext, ValueCheck } from './context.js';

/**
 * Element ids are unique within their resource (http://hl7.org/fhir/R4/element-definitions.html#Element.id:
 * "unique id for the element within a resource (for internal references)"). The HL7 validator:
 * "Duplicate id value '…'", an error at the second element. The resource's own id and the
 * resources inside it (contained, Bundle entries, parameters) are not elements of it: each is
 * checked as a resource of its own. A StructureDefinition's element definitions are not counted:
 * their ids are paths, the same in its snapshot and its differential, each list's own (sdf rules).
 * Rule key `element-id`: in a message a content resource's duplicate is a warning
 * (messaging/content-policy.ts).
 */
export const elementIdRule: ValueCheck = (value, path, ctx) => {
  if (value === null || typeof value !== 'object') return;
  const seen = new Set<string>();
  for (const [key, child] of Object.entries(value)) {
    if (key === 'id' || key === 'resourceType' || key === 'contained') continue;
    walk(child, `${path}.${key.startsWith('_') ? key.slice(1) : key}`, seen, ctx, 0);
  }
};

const ELEMENT_DEFINITION = /\.(?:snapshot|differential)\.element\[\d+\]$/;

function walk(value: unknown, path: string, seen: Set<string>, ctx: ValidationContext, depth: number): void {
  if (depth > 64 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, `${path}[${i}]`, seen, ctx, depth + 1));
    return;
  }
  // a resource inside this one (Bundle.entry.resource, Parameters.parameter.resource) is checked on its own
  if ('resourceType' in value) return;
  const id = (value as { id?: unknown }).id;
  if (typeof id === 'string' && !ELEMENT_DEFINITION.test(path)) {
    if (seen.has(id)) ctx.issues.error('business-rule', path, `Duplicate id value '${id}'`, 'element-id');
    seen.add(id);
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === 'id') continue;
    walk(child, `${path}.${key.startsWith('_') ? key.slice(1) : key}`, seen, ctx, depth + 1);
  }
}

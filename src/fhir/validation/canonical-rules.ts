import type { ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * Where a URL names a definition it must be absolute, so that any reader resolves it the same way.
 * Messages are the HL7 validator's.
 * - A canonical resource's `url` is "an absolute URI that is used to identify this … when it is
 *   referenced" (e.g. http://hl7.org/fhir/R4/valueset-definitions.html#ValueSet.url);
 * - a `canonical` names such a URL, or `#id` for a contained resource (references.html#canonical;
 *   checked with the primitives: primitives.ts);
 * - `Coding.system` and `ValueSet.compose.include.system` identify a code system by its canonical
 *   URL (datatypes.html#Coding, valueset-definitions.html#ValueSet.compose.include.system), and a
 *   value set's URL is not a code system;
 * - an Identifier whose system is `urn:ietf:rfc:3986` has a URI as its value
 *   (identifier-registry.html).
 */

const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/** R4 resource types whose `url` is their canonical URL (Contract, Device and DeviceDefinition have a `url` of another kind). */
export const CANONICAL_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'ActivityDefinition', 'CapabilityStatement', 'ChargeItemDefinition', 'CodeSystem', 'CompartmentDefinition', 'ConceptMap',
  'EffectEvidenceSynthesis', 'EventDefinition', 'Evidence', 'EvidenceVariable', 'ExampleScenario', 'GraphDefinition',
  'ImplementationGuide', 'Library', 'Measure', 'MessageDefinition', 'OperationDefinition', 'PlanDefinition', 'Questionnaire',
  'ResearchDefinition', 'ResearchElementDefinition', 'RiskEvidenceSynthesis', 'SearchParameter', 'StructureDefinition',
  'StructureMap', 'TerminologyCapabilities', 'TestScript', 'ValueSet',
]);

/** A canonical resource's own `url`, where it is validated (top level, an entry, contained). */
export const canonicalResourceUrlRule: ValueCheck = (value, path, ctx) => {
  const url = (value as { url?: unknown }).url;
  if (typeof url !== 'string' || ABSOLUTE.test(url)) return;
  const contained = ctx.resource.value !== ctx.rootResource.value;
  ctx.issues.error(
    'value',
    `${path}.url`,
    contained ? `Canonical URLs in contained resources must be absolute URLs if present (${url})` : `Canonical URLs must be absolute URLs if they are not fragment references (${url})`,
  );
};

/** ValueSet.compose.include/exclude.system names a code system by its canonical URL. */
export const valueSetSystemRule: ValueCheck = (value, path, ctx) => {
  const compose = (value as { compose?: { include?: unknown; exclude?: unknown } }).compose;
  if (!compose || typeof compose !== 'object') return;
  for (const part of ['include', 'exclude'] as const) {
    const list = compose[part];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: { system?: unknown } | null, i) => {
      const system = entry?.system;
      if (typeof system !== 'string' || ABSOLUTE.test(system)) return;
      const hint = system.startsWith('#')
        ? '. To reference a contained code system, use the full CodeSystem URL and reference it using the http://hl7.org/fhir/StructureDefinition/valueset-system extension'
        : '';
      ctx.issues.error('value', `${path}.compose.${part}[${i}]`, `URI values in ValueSet.compose.${part}.system must be absolute${hint}`);
    });
  }
};

/** Coding.system: an absolute URL, and the URL of a code system rather than of a value set (code-invalid: what a code says). */
export function codingSystemRule(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const system = (value as { system?: unknown }).system;
    if (typeof system !== 'string') return;
    if (!ABSOLUTE.test(system)) {
      ctx.issues.error('code-invalid', `${path}.system`, 'Coding.system must be an absolute reference, not a local reference');
    } else if (registry.getValueSet(system) && !registry.getCodeSystem(system)) {
      ctx.issues.error('code-invalid', `${path}.system`, `The Coding references a value set, not a code system ('${system}')`);
    }
  };
}

/** An Identifier in the system `urn:ietf:rfc:3986` is a URI. */
export const uriIdentifierRule: ValueCheck = (value, path, ctx) => {
  const identifier = value as { system?: unknown; value?: unknown };
  if (identifier.system !== 'urn:ietf:rfc:3986' || typeof identifier.value !== 'string' || ABSOLUTE.test(identifier.value)) return;
  ctx.issues.error(
    'value',
    path,
    `if identifier.system is 'urn:ietf:rfc:3986', then the identifier.value must be a full URI (e.g. start with a scheme), not '${identifier.value}'`,
    'identifier-uri',
  );
};

/**
 * A canonical names a resource of a type its element allows (its targetProfile, e.g.
 * QuestionnaireResponse.questionnaire: Questionnaire). Checked when the registry holds a resource
 * with that URL; one it does not hold may be anywhere. The HL7 validator's message.
 */
export function canonicalTargetCheck(allowed: Set<string>, registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    if (typeof value !== 'string' || value.startsWith('#')) return;
    const found = heldTypeOf(value, registry);
    if (found && !allowed.has(found)) {
      ctx.issues.error('value', path, `Canonical URL '${value}' refers to a resource that has the wrong type. Found ${found} expecting one of [${[...allowed].join(', ')}]`);
    }
  };
}

/** The type of the definition the registry holds at a canonical URL, if any. */
export function heldTypeOf(url: string, registry: ConformanceRegistry): string | undefined {
  if (registry.getStructureDefinition(url)) return 'StructureDefinition';
  if (registry.getValueSet(url)) return 'ValueSet';
  if (registry.getCodeSystem(url)) return 'CodeSystem';
  if (registry.getQuestionnaire(url)) return 'Questionnaire';
  if (registry.getMeasure(url)) return 'Measure';
  return undefined;
}

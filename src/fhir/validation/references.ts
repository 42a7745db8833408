import { type BundleEntryInfo, resolveInBundle } from './bundle-index.js';
import type { ValidationContext, ValueCheck } from './context.js';
import { primitiveRegexes } from './primitives.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * Literal references (http://hl7.org/fhir/R4/references.html#literal): `Type/id[/_history/vid]`, an
 * absolute URL, `#id` for a contained resource (`#` alone is the container), `urn:uuid:` and
 * `urn:oid:` (resolved inside a Bundle), or a conditional `Type?query` (transactions).
 */

const RELATIVE = /^([A-Za-z]+)\/([^/?#]+)(?:\/_history\/([^/?#]+))?$/;
const ABSOLUTE_TAIL = /\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
const CORE_SD = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * The resource type a reference points at, when it can be told, or a problem with its format: a
 * `problem` is an error (the HL7 validator: "The reference … is not a valid reference"), a
 * `suspicious` one a warning ("The syntax of the reference … looks incorrect, and it should be
 * checked"): Reference.reference is a string, and a reference that does not look like Type/id may
 * still be resolvable.
 */
type Target = { type?: string; problem?: string; suspicious?: string };

export function referenceTarget(reference: string, ctx: ValidationContext, registry: ConformanceRegistry): Target {
  if (reference.startsWith('#')) {
    if (reference === '#') return { type: ctx.rootResource.type };
    const contained = (ctx.rootResource.value as { contained?: unknown }).contained;
    if (Array.isArray(contained)) {
      const id = reference.slice(1);
      const found = contained.find((c) => c && typeof c === 'object' && (c as { id?: unknown }).id === id);
      if (found) return { type: (found as { resourceType?: string }).resourceType };
    }
    return {}; // ref-1 reports a local reference without a contained resource
  }
  if (/\s/.test(reference)) return { problem: `The reference '${reference}' is not a valid reference: it contains whitespace` };
  if (/^urn:uuid:/i.test(reference)) {
    // Reference.reference is a string: like the HL7 validator, no uuid format here (a uri such as a
    // fullUrl is checked: primitives.ts). In a Bundle an upper-case one simply matches no fullUrl.
    return { type: bundledType(reference, ctx) };
  }
  if (reference.startsWith('urn:oid:')) {
    if (!primitiveRegexes.oid.test(reference)) return { problem: `${reference} is not a valid urn:oid: reference` };
    return { type: bundledType(reference, ctx) };
  }
  const queryAt = reference.indexOf('?');
  if (queryAt > 0 && !SCHEME.test(reference)) {
    const type = reference.slice(0, queryAt);
    return registry.isResourceType(type) ? { type } : { problem: `Conditional reference ${reference} does not start with a resource type` };
  }
  if (SCHEME.test(reference)) {
    const bundled = bundledType(reference, ctx);
    if (bundled) return { type: bundled };
    const tail = ABSOLUTE_TAIL.exec(reference);
    return { type: tail && registry.isResourceType(tail[1]) ? tail[1] : undefined };
  }
  const suspicious = `The syntax of the reference '${reference}' looks incorrect, and it should be checked`;
  const m = RELATIVE.exec(reference);
  if (!m) return { suspicious: `${suspicious} (expected Type/id, an absolute URL, #id, urn:uuid: or urn:oid:)` };
  const [, type, id, version] = m;
  if (!registry.isResourceType(type)) return { problem: `Reference ${reference} names ${type}, which is not an R4 resource type` };
  if (!primitiveRegexes.id.test(id)) return { type, suspicious: `${suspicious} (${JSON.stringify(id)} is not a valid id)` };
  if (version !== undefined && !primitiveRegexes.id.test(version)) return { type, suspicious: `${suspicious} (${JSON.stringify(version)} is not a valid version id)` };
  return { type };
}

/** The entry holding the resource being validated (a contained resource: its container's entry). */
function holdingEntry(ctx: ValidationContext): BundleEntryInfo | undefined {
  return ctx.bundle?.entryOf.get(ctx.rootResource.value as object);
}

/** The type of the Bundle entry an absolute reference names, when it names exactly one. */
function bundledType(reference: string, ctx: ValidationContext): string | undefined {
  if (!ctx.bundle) return undefined;
  const resolved = resolveInBundle(ctx.bundle, reference, holdingEntry(ctx));
  return resolved.kind === 'found' ? resolved.entry.resourceType : undefined;
}

/** Format of every Reference, and agreement between Reference.type and the literal reference. */
export function referenceFormatCheck(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const ref = value as { reference?: unknown; type?: unknown };
    if (typeof ref.reference !== 'string') return;
    const target = referenceTarget(ref.reference, ctx, registry);
    if (target.problem) {
      ctx.issues.error('value', `${path}.reference`, target.problem);
      return;
    }
    if (target.suspicious) ctx.issues.warning('value', `${path}.reference`, target.suspicious);
    if (ctx.bundle && !ref.reference.startsWith('#') && !isConditional(ref.reference)) checkBundled(ref.reference, path, ctx);
    if (typeof ref.type === 'string' && target.type && !ref.type.endsWith(target.type) && ref.type !== CORE_SD + target.type) {
      ctx.issues.error('value', `${path}.type`, `Reference.type ${ref.type} does not match the reference ${ref.reference} (a ${target.type})`);
    }
  };
}

/**
 * The resource types an element's targetProfile allows (R4: Reference(Patient|Group)). Undefined means
 * any type: no targetProfile, Resource, or a profile we cannot resolve to a type.
 */
export function allowedTargetTypes(targetProfiles: string[] | undefined, registry: ConformanceRegistry): Set<string> | undefined {
  if (!targetProfiles?.length) return undefined;
  const types = new Set<string>();
  for (const url of targetProfiles) {
    // a core profile such as …/StructureDefinition/vitalsigns names its type (Observation), not its id
    const type =
      registry.getStructureDefinition(url)?.type ??
      (url.startsWith(CORE_SD) && !url.slice(CORE_SD.length).includes('/') ? url.slice(CORE_SD.length) : undefined);
    if (!type || type === 'Resource' || type === 'DomainResource') return undefined;
    types.add(type);
  }
  return types;
}

/** Checks that a reference points at one of the types its element allows. */
export function referenceTargetCheck(allowed: Set<string>, registry: ConformanceRegistry, elementLabel: string): ValueCheck {
  const list = [...allowed].join(', ');
  return (value, path, ctx) => {
    const ref = value as { reference?: unknown; type?: unknown };
    let type: string | undefined;
    let shown = '';
    if (typeof ref.reference === 'string') {
      type = referenceTarget(ref.reference, ctx, registry).type;
      shown = ref.reference;
    }
    if (!type && typeof ref.type === 'string') {
      type = ref.type.startsWith(CORE_SD) ? ref.type.slice(CORE_SD.length) : ref.type;
      shown = `type ${ref.type}`;
    }
    if (type && !allowed.has(type)) {
      ctx.issues.error('structure', path, `${elementLabel} may refer to ${list}, but refers to a ${type} (${shown})`);
    }
  };
}

function isConditional(reference: string): boolean {
  return reference.includes('?') && !SCHEME.test(reference);
}

/**
 * A reference inside a Bundle entry, resolved by the Bundle's rules as the HL7 validator resolves
 * each reference (bundle-index.ts, `loose`), with its severities: a `urn:` reference must be in the
 * Bundle (a warning otherwise: "URN reference is not locally contained within the bundle"); a
 * relative reference needs its entry's fullUrl (an error, except in batch and transaction
 * responses); a target of another type than the reference names is an error; an entry that matches
 * only by type and id is a warning; a version-specific reference needs meta.versionId on its
 * target. Other references may be resolved outside the Bundle and are not reported here. What a
 * document or a message must carry is bundle-rules.ts. In a message the errors are warnings: a
 * referral is never refused for what it says, only for what stops it being read or routed.
 */
function checkBundled(reference: string, path: string, ctx: ValidationContext): void {
  const bundle = ctx.bundle!;
  const from = holdingEntry(ctx);
  if (!from) return; // a reference in the Bundle itself (signature) or deeper than its entries
  const where = `${path}.reference`;
  // in a message these are warnings (the HL7 validator: errors): a referral is not refused for them
  const severity = bundle.type === 'message' ? 'warning' : 'error';
  const resolved = resolveInBundle(bundle, reference, from);
  switch (resolved.kind) {
    case 'found': {
      const named = /^([A-Z][A-Za-z]+)\/[^/]+(?:\/_history\/[^/]+)?$/.exec(reference)?.[1] ?? ABSOLUTE_TAIL.exec(reference)?.[1];
      const actual = resolved.entry.resourceType;
      if (named && actual && named !== actual) {
        ctx.issues.add(severity, 'value', where, `Matching reference for reference ${reference} has resourceType ${actual} (Bundle.entry[${resolved.entry.index}])`);
      }
      return;
    }
    case 'ambiguous':
      ctx.issues.add(severity, 'value', where, `Found ${resolved.entries.length} matches for ${reference} in the Bundle (entries ${resolved.entries.map((e) => e.index).join(', ')}); a reference must name one entry`);
      return;
    case 'no-base':
      if (bundle.type !== 'batch-response' && bundle.type !== 'transaction-response') {
        ctx.issues.add(severity, 'required', where, `Relative reference ${reference} appears inside a Bundle entry without a fullUrl, so it cannot be resolved (http://hl7.org/fhir/R4/bundle.html#references)`);
      }
      return;
    case 'missing':
      break;
  }
  if (reference.startsWith('urn:')) {
    ctx.issues.warning('not-found', where, `URN reference is not locally contained within the bundle ${reference}`);
  }
  if (resolved.versionMissing) {
    ctx.issues.warning('not-found', where, `Entries matching fullUrl ${resolved.target} should declare meta.versionId because there are version-specific references (${reference})`);
  }
  for (const e of resolved.sameTypeAndId) {
    ctx.issues.warning(
      'not-found',
      where,
      e.fullUrl === undefined
        ? `Entry ${e.index} matches the reference ${reference} by type and id but has no fullUrl, so it is not the target${resolved.target ? ` ${resolved.target}` : ''} by Bundle resolution rules`
        : `Entry ${e.index} matches the reference ${reference} by type and id but its fullUrl ${e.fullUrl} does not match the full target URL${resolved.target ? ` ${resolved.target}` : ''} by Bundle resolution rules`,
    );
  }
}

import { resolveInBundle } from './bundle-index.js';
import { nestedContext, type ValidationContext, type ValueCheck } from './context.js';
import { IssueList } from './issues.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * Reference.targetProfile naming profiles (http://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.type.targetProfile):
 * "the target resource SHALL conform to at least one profile defined". A target that can be read
 * here — a contained resource, an entry of the enclosing Bundle by the Bundle's reference rules, or
 * one the caller's `resolveReference` returns — is checked against each named profile; when it
 * conforms to none, that is an error, with the HL7 validator's words ("Unable to find a profile
 * match for … among choices: …"). Core definitions are left to the type check (references.ts).
 */
export function targetProfileCheck(targetProfiles: string[], registry: ConformanceRegistry, label: string): ValueCheck | undefined {
  const profiles = targetProfiles.filter((url) => registry.getStructureDefinition(url)?.derivation === 'constraint');
  if (profiles.length === 0) return undefined;
  return (value, path, ctx) => {
    const reference = (value as { reference?: unknown } | null)?.reference;
    if (typeof reference !== 'string') return;
    const target = resolveLocally(reference, ctx);
    if (!target) return;
    const resourceType = target.resourceType as string;
    // A core definition of the target's type among the choices is met by any such resource; a
    // target of a type none of the choices names is the type check's to report.
    const ofType = targetProfiles.filter((url) => registry.getStructureDefinition(url)?.type === resourceType);
    const candidates = ofType.filter((url) => profiles.includes(url));
    if (candidates.length < ofType.length || candidates.length === 0) return;
    if (candidates.some((url) => conforms(target, url, ctx))) return;
    ctx.issues.error(
      'structure',
      path,
      `Unable to find a profile match for ${reference} among choices: ${profiles.join(', ')} (${label}.targetProfile)`,
    );
  };
}

/** Targets being checked, so that profiles that refer to each other in a circle end. */
const inProgress = new WeakMap<object, Set<string>>();

function conforms(target: Record<string, unknown>, url: string, ctx: ValidationContext): boolean {
  const active = inProgress.get(target) ?? new Set<string>();
  if (active.has(url)) return true; // already being checked further up: assume it holds there
  active.add(url);
  inProgress.set(target, active);
  try {
    const scratch = new IssueList();
    const inner = { ...nestedContext(ctx, { type: target.resourceType as string, value: target }, false), issues: scratch };
    if (!ctx.engine.checkAgainstProfile(url, target, target.resourceType as string, inner)) return false;
    return !scratch.items.some((i) => i.severity === 'error');
  } finally {
    active.delete(url);
  }
}

function resolveLocally(reference: string, ctx: ValidationContext): Record<string, unknown> | undefined {
  if (reference.startsWith('#')) {
    const contained = (ctx.rootResource.value as { contained?: unknown }).contained;
    const found = Array.isArray(contained) ? contained.find((r) => (r as { id?: unknown })?.id === reference.slice(1)) : undefined;
    return isResource(found) ? found : undefined;
  }
  const bundle = ctx.bundle;
  if (bundle) {
    const holder = ctx.resource.value as object;
    const resolution = resolveInBundle(bundle, reference, bundle.entryOf.get(holder));
    if (resolution.kind === 'found') {
      for (const [resource, info] of bundle.entryOf) {
        if (info === resolution.entry) return isResource(resource) ? resource : undefined;
      }
    }
    // a reference that names an entry by the Bundle's rules is the Bundle's to resolve
    if (resolution.kind !== 'missing') return undefined;
  }
  const fetched = ctx.resolveReference?.(reference);
  return isResource(fetched) ? fetched : undefined;
}

function isResource(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && typeof (x as { resourceType?: unknown }).resourceType === 'string';
}

/**
 * ElementDefinition.type.profile with several profiles
 * (http://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.type.profile): "the
 * data type or resource SHALL conform to at least one profile defined". Each is tried on a scratch
 * issue list; when none is met, one error names them with the first problem each found.
 */
export function anyOfProfilesCheck(profiles: string[], label: string, url: string, registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const problems: string[] = [];
    for (const profile of profiles) {
      const wrongType = resourceTypeMismatch(registry, profile, value);
      if (wrongType) {
        problems.push(`${profile}: it is for ${wrongType.expected}, not ${wrongType.actual}`);
        continue;
      }
      const scratch = new IssueList();
      const resourceType = (value as { resourceType?: unknown } | null)?.resourceType;
      const inner = typeof resourceType === 'string' ? { ...nestedContext(ctx, { type: resourceType, value }, false), issues: scratch } : { ...ctx, issues: scratch };
      if (!ctx.engine.checkAgainstProfile(profile, value, path, inner)) {
        problems.push(`${profile}: not loaded`);
        continue;
      }
      const firstError = scratch.items.find((i) => i.severity === 'error');
      if (!firstError) return;
      problems.push(`${profile}: ${firstError.diagnostics}`);
    }
    ctx.issues.error('structure', path, `${label} must conform to at least one of its profiles in ${url}, and conforms to none (${problems.join('; ')})`);
  };
}

/**
 * A resource held where a profile is required (Bundle.entry.resource, Parameters.parameter.resource,
 * contained), when the profile is for another resource type: `type.code` may be `Resource` with the
 * profile naming the type, and a profile applies only to its own type (profiling.html).
 */
export function resourceTypeMismatch(registry: ConformanceRegistry, profile: string, value: unknown): { actual: string; expected: string } | undefined {
  const actual = (value as { resourceType?: unknown } | null)?.resourceType;
  const sd = registry.getStructureDefinition(profile);
  if (typeof actual !== 'string' || sd?.kind !== 'resource' || sd.abstract || !sd.type || sd.type === actual) return undefined;
  return { actual, expected: sd.type };
}

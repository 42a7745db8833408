import { indexBundle } from './bundle-index.js';
import { nestedContext, type ValidationContext } from './context.js';

/**
 * Profiles for entries of a Bundle chosen by the caller (the HL7 validator's `-bundle {rule}
 * {profile}`): a rule `Type:index` selects the entries whose resource has that type and/or that
 * position (0-based), e.g. `Patient`, `Patient:0` or `:2`; each selected resource is checked against
 * the profile, and a profile that is not known is an error, as for `profiles`.
 */
export interface BundleProfileRule {
  rule: string;
  profile: string;
}

export function checkBundleProfiles(bundle: Record<string, unknown>, rules: readonly BundleProfileRule[], path: string, ctx: ValidationContext): void {
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const bundleIndex = indexBundle(bundle);
  for (const { rule, profile } of rules) {
    const [type, index] = rule.split(':');
    entries.forEach((entry: unknown, i) => {
      const resource = (entry as { resource?: unknown } | null)?.resource as Record<string, unknown> | undefined;
      const resourceType = resource?.resourceType;
      if (typeof resourceType !== 'string') return;
      if (type && type !== resourceType) return;
      if (index !== undefined && index !== '' && Number(index) !== i) return;
      const where = `${path}.entry[${i}].resource`;
      const inner: ValidationContext = { ...nestedContext(ctx, { type: resourceType, value: resource }, false), bundle: bundleIndex, resourcePath: where };
      ctx.issues.underProfile(() => {
        if (!ctx.engine.checkAgainstProfile(profile, resource, where, inner)) {
          ctx.issues.error('not-found', where, `Profile ${profile} (for Bundle entries ${rule}) is not known to this validator`);
        }
      });
    });
  }
}

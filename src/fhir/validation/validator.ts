import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { loadR4Definitions } from '../definitions.js';
import { TypeCompiler } from './compile.js';
import { checkObject } from './json-walk.js';
import { indexBundle } from './bundle-index.js';
import { type BundleProfileRule, checkBundleProfiles } from './bundle-profiles.js';
import { checkContainedIds } from './contained.js';
import { ExtensionContexts } from './extension-context.js';
import { nestedContext, type ResourceEngine, type ValidationContext } from './context.js';
import { InvariantCompiler } from './invariants.js';
import { IssueList } from './issues.js';
import { ProfileCompiler } from './profiles.js';
import { measureReportRule } from './measure-report.js';
import { questionnaireResponseRule } from './questionnaire-response.js';
import { supplementSystemRule } from './supplements.js';
import { structureDefinitionRule } from './structure-definition-rules.js';
import { valueSetFilterRule } from './valueset-filters.js';
import { valueSetEclFilterRule } from './valueset-filter-rules.js';
import { conceptMapRule } from './concept-map-rules.js';
import { createR4Registry } from './r4-definitions.js';
import { referenceFormatCheck } from './references.js';
import type { ConformanceRegistry } from './registry.js';
import { defaultTypeRules } from './rules.js';
import { Terminology } from './terminology.js';

export interface ValidateOptions {
  /** Profile URLs to check besides the resource's meta.profile; one that is not known is an error. */
  profiles?: string[];
  /**
   * How a meta.profile that this validator does not know is reported. `warning` (the default) is
   * what the HL7 validator does: the claim is noted and the resource is checked against the rest.
   * `error`: a resource may not claim a profile that cannot be checked (UNKNOWN_PROFILE=reject).
   */
  unknownProfile?: 'warning' | 'error';
  /**
   * How an extension whose definition this validator does not hold is reported
   * (unknown-extensions.ts). `error` is the HL7 validator's default (`$validate`, the CLI): an
   * extension that cannot be checked is not allowed, unless its URL is in `extensionDomains`, an
   * example or a tool URL; `warning` notes it (writes, with UNKNOWN_EXTENSION=warn). Not given: only
   * an unknown core extension URL (probably a typo) is reported, as a warning (messages: a referral
   * is never refused for the extensions it carries).
   */
  unknownExtension?: 'warning' | 'error';
  /** URL prefixes whose extensions may be used without a definition (the HL7 validator's `-extension`). */
  extensionDomains?: readonly string[];
  /**
   * Reads a resource that a reference outside what is validated names (the HL7 validator's
   * resource fetcher), so that it can be checked against the reference's target profiles. Without
   * it, only contained resources and Bundle entries are checked (target-profiles.ts).
   */
  resolveReference?: (reference: string) => Record<string, unknown> | undefined;
  /** Profiles for chosen entries of a Bundle (the HL7 validator's `-bundle {rule} {profile}`; bundle-profiles.ts). */
  bundleProfiles?: readonly BundleProfileRule[];
  /**
   * The HL7 validator's security checks (`-security-checks`): a primitive value other than the
   * narrative's xhtml, markdown included, may not contain text that looks like an HTML tag
   * (html-in-text.ts). Off by default: `<` in a name or a note is not an error.
   */
  securityChecks?: boolean;
  /**
   * false: a URL in an example domain (example.org/.com/.net, acme.com/.org, the example OID arcs)
   * in a uri, url, canonical or oid element is an error unless it names a definition the registry
   * holds, and an example.org or acme.com extension is no longer allowed without a definition
   * (example-urls.ts; the HL7 validator's `-allow-example-urls false`). Default: allowed.
   */
  allowExampleUrls?: boolean;
  /**
   * How markdown that contains an HTML tag is reported (the HL7 validator's `-html-in-markdown`;
   * html-in-text.ts). Not given: not checked.
   */
  htmlInMarkdown?: 'warning' | 'error';
  /**
   * `ignore`: contained resources are not validated, nor whether each is referred to (dom-3), nor
   * their ids (the HL7 validator's contained-resource policy IGNORE). Default: `validate`.
   */
  containedResources?: 'validate' | 'ignore';
  /**
   * Whether the global profiles of the ImplementationGuides held (ImplementationGuide.global: "a set
   * of profiles that all resources covered by this implementation guide must conform to") apply to
   * every resource of their type, as the HL7 validator applies those of the guides it loads.
   * Default true; the server turns it on for `$validate` only (pipeline/stored-conformance.ts).
   */
  globalProfiles?: boolean;
}

/**
 * Validates FHIR R4 resources in JSON form against the definitions in a ConformanceRegistry and
 * returns every issue found (http://hl7.org/fhir/R4/validation.html). Types and profiles are compiled
 * on first use and kept; adding to the registry later discards what was compiled.
 */
export class Validator implements ResourceEngine {
  private compiled: { revision: number; types: TypeCompiler; profiles: ProfileCompiler } | undefined;

  constructor(readonly registry: ConformanceRegistry) {
    // FHIRPath navigation in @medplum/core uses its own global schema of the R4 types.
    loadR4Definitions();
  }

  validate(resource: unknown, opts: ValidateOptions = {}): OperationOutcomeIssue[] {
    const issues = new IssueList();
    const resourceType = (resource as { resourceType?: unknown } | null)?.resourceType;
    if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
      issues.error('structure', '(root)', 'A FHIR resource must be a JSON object');
      return issues.items;
    }
    if (typeof resourceType !== 'string') {
      issues.error('structure', '(root)', 'The JSON object has no resourceType, so it is not a FHIR resource');
      return issues.items;
    }
    const tv = { type: resourceType, value: resource };
    const ctx: ValidationContext = {
      issues,
      resource: tv,
      rootResource: tv,
      bundle: undefined,
      engine: this,
      unknownProfile: opts.unknownProfile,
      unknownExtension: opts.unknownExtension,
      extensionDomains: opts.extensionDomains,
      resolveReference: opts.resolveReference && remembered(opts.resolveReference),
      securityChecks: opts.securityChecks,
      allowExampleUrls: opts.allowExampleUrls,
      htmlInMarkdown: opts.htmlInMarkdown,
      containedResources: opts.containedResources,
      globalProfiles: opts.globalProfiles,
    };
    this.validateResourceAt(resource as Record<string, unknown>, resourceType, resourceType, ctx, opts.profiles ?? []);
    if (resourceType === 'Bundle' && opts.bundleProfiles?.length) checkBundleProfiles(resource as Record<string, unknown>, opts.bundleProfiles, resourceType, ctx);
    return withoutDuplicates(issues.items);
  }

  validateNestedResource(value: unknown, path: string, ctx: ValidationContext, contained: boolean): void {
    if (contained && ctx.containedResources === 'ignore') return;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      ctx.issues.error('structure', path, `${path} must be a resource (a JSON object with resourceType)`);
      return;
    }
    const resourceType = (value as { resourceType?: unknown }).resourceType;
    if (typeof resourceType !== 'string') {
      ctx.issues.error('structure', path, `${path} has no resourceType`);
      return;
    }
    const nested = nestedContext(ctx, { type: resourceType, value }, contained);
    this.validateResourceAt(value as Record<string, unknown>, resourceType, path, nested, []);
  }

  checkAgainstProfile(url: string, value: unknown, path: string, ctx: ValidationContext): boolean {
    const checker = this.state().profiles.checker(url);
    if (!checker) return false;
    checker.check(value, path, ctx);
    return true;
  }

  private validateResourceAt(
    resource: Record<string, unknown>,
    resourceType: string,
    path: string,
    ctx: ValidationContext,
    extraProfiles: string[],
  ): void {
    const { types, profiles } = this.state();
    const shape = this.registry.isResourceType(resourceType) ? types.shapeOfType(resourceType) : undefined;
    if (!shape) {
      ctx.issues.error('structure', `${path}.resourceType`, `Unknown resourceType ${JSON.stringify(resourceType)}: not an R4 resource type`);
      return;
    }
    ctx = { ...ctx, resourcePath: path };
    if (resourceType === 'Bundle') ctx.bundle = indexBundle(resource);
    checkObject(shape, resource, path, ctx, types);
    if (ctx.containedResources !== 'ignore') checkContainedIds(resource, path, ctx);
    // An ImplementationGuide's global profiles apply to every resource of their type, nested ones too.
    const globals = ctx.globalProfiles === false ? [] : this.registry.globalProfiles(resourceType).filter((url) => this.registry.getStructureDefinition(url));
    profiles.checkDeclared(resource, resourceType, path, ctx, globals.length ? [...extraProfiles, ...globals] : extraProfiles, ctx.unknownProfile);
  }

  private state(): { types: TypeCompiler; profiles: ProfileCompiler } {
    const revision = this.registry.revision;
    if (this.compiled?.revision !== revision) {
      const terminology = new Terminology(this.registry);
      const invariants = new InvariantCompiler(terminology);
      const base = defaultTypeRules(terminology, this.registry);
      const extensionContexts = new ExtensionContexts(this.registry);
      const rules = {
        ...base,
        Reference: [referenceFormatCheck(this.registry)],
        Extension: [...(base.Extension ?? []), extensionContexts.check],
        QuestionnaireResponse: [...(base.QuestionnaireResponse ?? []), questionnaireResponseRule(this.registry, terminology)],
        MeasureReport: [...(base.MeasureReport ?? []), measureReportRule(this.registry)],
        Coding: [...(base.Coding ?? []), supplementSystemRule(this.registry)],
        StructureDefinition: [...(base.StructureDefinition ?? []), structureDefinitionRule(this.registry)],
        ValueSet: [...(base.ValueSet ?? []), valueSetFilterRule(this.registry), valueSetEclFilterRule],
        ConceptMap: [...(base.ConceptMap ?? []), conceptMapRule(terminology)],
      };
      const types = new TypeCompiler(this.registry, terminology, invariants, rules);
      const profiles = new ProfileCompiler(this.registry, terminology, invariants);
      this.compiled = { revision, types, profiles };
    }
    return this.compiled;
  }
}

/** Two profiles (or a profile and an extension definition) can find the same problem; report it once. */
function withoutDuplicates(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  if (issues.length < 2) return issues;
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}|${i.expression?.[0]}|${i.diagnostics}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The caller's reference reader, asked once per reference in one validation: a resource read again
 * is the same object, so target-profile checks of resources that refer to each other in a circle
 * end (target-profiles.ts keys its work in progress by object), and nothing is read twice.
 */
function remembered(read: (reference: string) => Record<string, unknown> | undefined): (reference: string) => Record<string, unknown> | undefined {
  const seen = new Map<string, Record<string, unknown> | undefined>();
  return (reference) => {
    if (!seen.has(reference)) seen.set(reference, read(reference));
    return seen.get(reference);
  };
}

let shared: Validator | undefined;

/** A process-wide Validator over the R4 base (corrected to 4.0.1). Built on first call, which takes a second or two. */
export function defaultValidator(): Validator {
  shared ??= new Validator(createR4Registry().registry);
  return shared;
}

/** A new Validator over a fresh R4 base registry, for callers that add their own profiles. */
export function createR4Validator(): Validator {
  return new Validator(createR4Registry().registry);
}

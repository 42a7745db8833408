import type { TypedValue } from '@medplum/core';
import type { BundleIndex } from './bundle-index.js';
import type { IssueList } from './issues.js';

export type { BundleIndex } from './bundle-index.js';

/** What a check needs to know about where it runs; one per resource being validated. */
export interface ValidationContext {
  issues: IssueList;
  /** FHIRPath %resource: the resource that holds the element (http://hl7.org/fhir/R4/fhirpath.html#variables). */
  resource: TypedValue;
  /** FHIRPath %rootResource: the container of a contained resource, else the resource itself. */
  rootResource: TypedValue;
  /** The nearest enclosing Bundle, for resolving references between its entries. */
  bundle: BundleIndex | undefined;
  engine: ResourceEngine;
  /** FHIRPath of `resource` in what is validated (`Patient`, `Bundle.entry[0].resource`). */
  resourcePath?: string;
  /** The element whose `extension`/`modifierExtension` is being walked, for extension contexts. */
  extensionHost?: ExtensionHost;
  /** Severity of a meta.profile this validator does not know (ValidateOptions.unknownProfile). */
  unknownProfile?: 'warning' | 'error';
  /** Severity of an extension this validator has no definition for (ValidateOptions.unknownExtension). */
  unknownExtension?: 'warning' | 'error';
  /** URL prefixes whose extensions may be used without a definition (ValidateOptions.extensionDomains). */
  extensionDomains?: readonly string[];
  /** Reads a referenced resource that is not in what is validated (ValidateOptions.resolveReference). */
  resolveReference?: (reference: string) => Record<string, unknown> | undefined;
  /** Primitive values may not contain HTML-like tags (ValidateOptions.securityChecks). */
  securityChecks?: boolean;
  /** false: URLs in example domains are errors (ValidateOptions.allowExampleUrls). */
  allowExampleUrls?: boolean;
  /** How HTML tags in markdown are reported (ValidateOptions.htmlInMarkdown); not given: not checked. */
  htmlInMarkdown?: 'warning' | 'error';
  /** 'ignore': contained resources are not validated (ValidateOptions.containedResources). */
  containedResources?: 'validate' | 'ignore';
  /** false: the global profiles of held ImplementationGuides are not applied (ValidateOptions.globalProfiles). */
  globalProfiles?: boolean;
}

/** Where an extension sits: the element holding it (http://hl7.org/fhir/R4/extensibility.html#context). */
export interface ExtensionHost {
  /** The holding element's value (an object, or a primitive's value for `_name` extensions). */
  value: unknown;
  /** Its type: a data type, a primitive type, a resource type or a backbone type name (PatientContact). */
  typeName: string;
  /** Its path from its type's root: `Patient.contact`, `HumanName.given`, `Patient.gender`. */
  typePath: string;
  isResource: boolean;
  /** The Extension whose value this is (`_valueBoolean` of an extension), for `extension` contexts. */
  ofExtension?: string;
}

/** How the type checkers hand a nested resource back to the validator. */
export interface ResourceEngine {
  /** Validates a resource found at `path` (contained, a Bundle entry, Parameters.parameter.resource...). */
  validateNestedResource(value: unknown, path: string, ctx: ValidationContext, contained: boolean): void;
  /** Checks a value against a profile (e.g. an extension definition); false when the profile is unknown. */
  checkAgainstProfile(url: string, value: unknown, path: string, ctx: ValidationContext): boolean;
}

export type ValueCheck = (value: unknown, path: string, ctx: ValidationContext) => void;

/** Returns a context for a nested resource. Contained resources keep their container as %rootResource. */
export function nestedContext(ctx: ValidationContext, resource: TypedValue, contained: boolean): ValidationContext {
  return {
    issues: ctx.issues,
    resource,
    rootResource: contained ? ctx.rootResource : resource,
    bundle: ctx.bundle,
    engine: ctx.engine,
    unknownProfile: ctx.unknownProfile,
    unknownExtension: ctx.unknownExtension,
    extensionDomains: ctx.extensionDomains,
    resolveReference: ctx.resolveReference,
    securityChecks: ctx.securityChecks,
    allowExampleUrls: ctx.allowExampleUrls,
    htmlInMarkdown: ctx.htmlInMarkdown,
    containedResources: ctx.containedResources,
    globalProfiles: ctx.globalProfiles,
  };
}

import type { TypedValue } from '@medplum/core';
import type { IssueList } from './issues.js';

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
}

/** How the type checkers hand a nested resource back to the validator. */
export interface ResourceEngine {
  /** Validates a resource found at `path` (contained, a Bundle entry, Parameters.parameter.resource...). */
  validateNestedResource(value: unknown, path: string, ctx: ValidationContext, contained: boolean): void;
  /** Checks a value against a profile (e.g. an extension definition); false when the profile is unknown. */
  checkAgainstProfile(url: string, value: unknown, path: string, ctx: ValidationContext): boolean;
}

/** Entries of a Bundle by fullUrl, for reference resolution (http://hl7.org/fhir/R4/bundle.html#references). */
export interface BundleIndex {
  typeByFullUrl: Map<string, string>;
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
  };
}

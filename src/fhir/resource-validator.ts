import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/** What a validator may be asked besides the resource. */
export interface ValidateCallOptions {
  /** Profile URLs to check besides the resource's meta.profile. */
  profiles?: string[];
  /** How a meta.profile the validator does not know is reported. */
  unknownProfile?: 'warning' | 'error';
  /** How an extension the validator has no definition for is reported (not given: only an unknown core URL warns). */
  unknownExtension?: 'warning' | 'error';
  /**
   * How a StructureDefinition that cannot be used for validation (no snapshot can be made, it does
   * not compile) is reported: `error` for a profile a client writes, `warning` for one loaded from
   * an implementation guide package.
   */
  unusableProfile?: 'error' | 'warning';
  /**
   * The resource is about to be stored (a write), not asked about (`$validate`): a definition
   * (StructureDefinition, ValueSet, CodeSystem, Questionnaire, Measure) is then refused only for
   * what stops it being used (pipeline/stored-conformance.ts).
   */
  storing?: boolean;
  /**
   * Apply the global profiles of stored ImplementationGuides (ImplementationGuide.global), as the
   * HL7 validator does: `$validate` asks for it; writes and messages do not, so that a guide loaded
   * for one purpose cannot refuse referrals.
   */
  globalProfiles?: boolean;
  /** Reads a resource a reference names that is not in what is validated, for target-profile checks (ValidateOptions.resolveReference). */
  resolveReference?: (reference: string) => Record<string, unknown> | undefined;
}

/** The one query a validator needs to learn whether stored conformance resources changed (structurally a store Queryable). */
export interface ConformanceQueryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** Checks a resource; returns every issue found, errors and warnings alike (none when valid). */
export interface ResourceValidator {
  validate(resource: unknown, opts?: ValidateCallOptions): OperationOutcomeIssue[];
  /**
   * Brings the validator up to date with the conformance resources in the database, on the
   * caller's connection (or transaction), before `validate`; absent for a validator that uses
   * only built-in definitions. Given the resource about to be validated, it may skip the check
   * when nothing stored could change that resource's verdict.
   */
  prepare?(db: ConformanceQueryable, resource?: unknown): Promise<void>;
}

export const isError = (i: OperationOutcomeIssue): boolean => i.severity === 'error' || i.severity === 'fatal';

import { randomUUID } from 'node:crypto';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import { isError, type ResourceValidator } from '../fhir/resource-validator.js';
import { APPEND_ONLY_TYPES } from '../fhir/resource-types.js';
import type { SearchQuery } from '../fhir/search/query.js';
import { deleteWithPolicies, PATHWAY_POLICIES, writeWithPolicies, type PolicyContext, type WritePolicy } from '../pathway/write-policies.js';
import type { DeleteResult, ResourceStore, WriteResult } from '../store/resource-store.js';
import { refuseUnlessAdmin, refuseUnlessAdminStored } from './published-guard.js';
import { deletionRecord, writeRecord, type WriteOrigin } from './write-record.js';

export type { WriteOrigin } from './write-record.js';

/** A write's result, with the warnings its validation found (a write with errors does not happen). */
export interface PipelineWriteResult extends WriteResult {
  warnings?: OperationOutcomeIssue[];
}

async function withWarnings(warnings: OperationOutcomeIssue[], write: Promise<WriteResult>): Promise<PipelineWriteResult> {
  const result = await write;
  return warnings.length ? { ...result, warnings } : result;
}

/** WriteOrigin.activity of the writes `$load-package` makes (pipeline/package-load.ts). */
export const LOAD_PACKAGE_ACTIVITY = '$load-package';

/** Search criteria of a conditional write, with the text the client gave (for locks and messages). */
export interface Criteria {
  query: SearchQuery;
  text: string;
}

export interface WritePipelineOptions {
  validator: ResourceValidator;
  /** `reject` refuses a write with validation errors (the default); `log` accepts it and reports it. */
  writeValidation?: 'reject' | 'log';
  /** UNKNOWN_PROFILE: `warn` (the default) accepts a meta.profile the validator does not know, `reject` refuses it. */
  unknownProfile?: 'warn' | 'reject';
  /** UNKNOWN_EXTENSION: `warn` (the default) accepts an extension the validator has no definition for, with a warning; `reject` refuses it. */
  unknownExtension?: 'warn' | 'reject';
  onInvalidWrite?: (resource: Resource, issues: OperationOutcomeIssue[]) => void;
  policies?: readonly WritePolicy[];
}

/**
 * The one way a resource is written, whatever its route (REST, a Bundle entry, a page, the
 * scheduler): validate → the pathway's policies → store → audit, in one transaction (a single
 * statement where no policy applies). The route has parsed the request; everything after that is
 * here, so no route can skip a step. Messaging writes a whole message in one statement and runs
 * the same policies through `runPoliciesAfter` (see messaging/processor.ts).
 */
export class WritePipeline {
  readonly policies: readonly WritePolicy[];

  constructor(private readonly opts: WritePipelineOptions) {
    this.policies = opts.policies ?? PATHWAY_POLICIES;
  }

  /**
   * Every write is validated (http://hl7.org/fhir/R4/validation.html); all issues are reported
   * together. Content that is not valid FHIR structure is 400; content that breaks cardinality,
   * value rules, bindings, invariants or profiles is 422 (http://hl7.org/fhir/R4/http.html#update).
   * Returns the warnings of a write that may go ahead, for its answer (Prefer: return=OperationOutcome).
   */
  validate(resource: Resource, origin?: WriteOrigin): OperationOutcomeIssue[] {
    const issues = this.opts.validator.validate(resource, {
      unknownProfile: this.opts.unknownProfile === 'reject' ? 'error' : 'warning',
      unknownExtension: this.opts.unknownExtension === 'reject' ? 'error' : 'warning',
      // a profile from a published package is stored as published: what cannot be used says why where it is used
      unusableProfile: origin?.activity === LOAD_PACKAGE_ACTIVITY ? 'warning' : 'error',
      storing: true,
    });
    const errors = issues.filter(isError);
    if (errors.length === 0) return issues;
    if (this.opts.writeValidation === 'log') {
      this.opts.onInvalidWrite?.(resource, errors);
      return issues.filter((i) => !isError(i));
    }
    throw FhirError.fromIssues(validationErrorCode(errors), issues);
  }

  /**
   * Brings the validator up to date with the StructureDefinitions, ValueSets and CodeSystems stored
   * (issue 15), on the write's connection: one written a moment ago, by any instance, is used.
   */
  private async prepare(store: ResourceStore, resource: Resource): Promise<void> {
    await this.opts.validator.prepare?.(store.queryable, resource);
  }

  /** Create (http://hl7.org/fhir/R4/http.html#create), conditional with If-None-Exist. */
  async create(store: ResourceStore, resource: Resource, origin: WriteOrigin, opts: { id?: string; ifNoneExist?: Criteria } = {}): Promise<PipelineWriteResult> {
    await this.prepare(store, resource);
    const warnings = this.validate(resource, origin);
    refuseUnlessAdmin(origin, resource);
    if (resource.resourceType === 'AuditEvent') return appendAuditEvent(store, resource, opts.ifNoneExist);
    const record = writeRecord(origin, 'create');
    const { ifNoneExist } = opts;
    return withWarnings(warnings, writeWithPolicies(
      store,
      resource,
      true,
      async (s, r) =>
        ifNoneExist ? s.conditionalCreate(r, ifNoneExist.query, ifNoneExist.text, record) : { resource: await s.create(r, 'POST', opts.id ?? randomUUID(), record), created: true, changed: true },
      this.policies,
      origin,
    ));
  }

  /** Update or create with the client's id (R4 http.html#update), or by criteria (#cond-update). */
  async update(store: ResourceStore, resource: Resource, origin: WriteOrigin, opts: { ifMatch?: number; where?: Criteria } = {}): Promise<PipelineWriteResult> {
    refuseChangeOfAuditTrail(resource.resourceType);
    await this.prepare(store, resource);
    const warnings = this.validate(resource, origin);
    const { where } = opts;
    await refuseUnlessAdminStored(store, origin, resource.resourceType, where ? undefined : resource.id, resource, where?.query);
    const record = writeRecord(origin, 'update');
    return withWarnings(warnings, writeWithPolicies(
      store,
      resource,
      false,
      (s, r) => (where ? s.conditionalUpdate(r, where.query, where.text, { ifMatch: opts.ifMatch, record }) : s.update(r, { ifMatch: opts.ifMatch, record })),
      this.policies,
      origin,
    ));
  }

  /**
   * Patch (R4 http.html#patch): `apply` makes the next version from the current one, read and
   * written in one transaction. `ifMatch` gives the version the patch is based on (none: the
   * current one); it is asked for after the patch, so that a missing resource is 404 and a failing
   * patch 422 whatever the precondition says (RFC 7232 §5).
   */
  async patch(store: ResourceStore, type: string, id: string, apply: (current: Resource) => Resource, origin: WriteOrigin, ifMatch: () => number | undefined = () => undefined): Promise<PipelineWriteResult> {
    refuseChangeOfAuditTrail(type);
    return store.transaction(async (tx) => {
      // read for update: a patch is a write, so outside the compartment it is 403, not a read's 404
      const current = await tx.readForUpdate(type, id);
      const next = apply(structuredClone(current));
      refuseUnlessAdmin(origin, current, next);
      await this.prepare(tx, next);
      const warnings = this.validate(next, origin);
      const record = writeRecord(origin, 'patch');
      const version = ifMatch() ?? Number(current.meta?.versionId);
      return withWarnings(warnings, writeWithPolicies(tx, next, false, (s, r) => s.update(r, { ifMatch: version, method: 'PATCH', record }), this.policies, origin));
    });
  }

  /** Delete (R4 http.html#delete), guarded by the policies. */
  async delete(store: ResourceStore, type: string, id: string, origin: WriteOrigin, opts: { ifMatch?: number } = {}): Promise<DeleteResult> {
    refuseChangeOfAuditTrail(type);
    await refuseUnlessAdminStored(store, origin, type, id);
    return deleteWithPolicies(
      store,
      type,
      (s) => s.readOrUndefined(type, id),
      (s) => s.delete(type, id, { ifMatch: opts.ifMatch, record: deletionRecord(origin, type, id, s.clock.now()) }),
      this.policies,
      origin,
    );
  }

  /**
   * The context the server's own writes go through (the scheduler's jobs), bound to `tx`: each
   * write passes the policies and leaves its AuditEvent. What the server makes itself is not
   * validated as a client's write is: a fault there is the server's, and fails the job.
   */
  context(tx: ResourceStore, origin: WriteOrigin, now: Date = tx.clock.now()): PolicyContext {
    return {
      store: tx,
      now,
      origin,
      create: async (r) =>
        (await writeWithPolicies(tx, r, true, async (s, x) => ({ resource: await s.create(x, 'POST', randomUUID(), writeRecord(origin, 'create')), created: true, changed: true }), this.policies, origin))
          .resource as never,
      update: (r, o = {}) => writeWithPolicies(tx, r, false, (s, x) => s.update(x, { ...o, record: writeRecord(origin, 'update') }), this.policies, origin) as never,
    };
  }

  /** Conditional delete of a single match (R4 http.html#cdelete). */
  async deleteWhere(store: ResourceStore, where: Criteria, origin: WriteOrigin): Promise<DeleteResult> {
    const type = where.query.resourceType;
    refuseChangeOfAuditTrail(type);
    return store.transaction(async (tx) => {
      const found = await tx.matches(where.query);
      if (found.length > 1) throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `Conditional delete '${where.text}' matched ${found.length} resources`);
      if (found.length === 0) return { deleted: false };
      return this.delete(tx, type, found[0].id!, origin);
    });
  }
}

/**
 * The audit trail is append-only (IHE BALP; issue 13): an AuditEvent is never updated or deleted,
 * by anyone. 405, as for any interaction a type does not offer.
 */
function refuseChangeOfAuditTrail(type: string): void {
  if (!APPEND_ONLY_TYPES.has(type)) return;
  throw new FhirError(FhirErrorCode.METHOD_NOT_ALLOWED, { code: 'business-rule', message: 'AuditEvent is append-only: it can be created and read, never updated or deleted', expression: 'AuditEvent' });
}

/** A client's AuditEvent joins the audit trail as it is (conditional on If-None-Exist when given). */
async function appendAuditEvent(store: ResourceStore, event: Resource, ifNoneExist?: Criteria): Promise<WriteResult> {
  if (ifNoneExist) {
    const found = await store.matches(ifNoneExist.query);
    if (found.length > 1) throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `If-None-Exist '${ifNoneExist.text}' matched ${found.length} resources`);
    if (found.length === 1) return { resource: found[0], created: false, changed: false };
  }
  return { resource: await store.appendAuditEvent(event), created: true, changed: true };
}

export function validationErrorCode(errors: OperationOutcomeIssue[]): FhirErrorCode {
  return errors.some((i) => i.code === 'structure') ? FhirErrorCode.INVALID : FhirErrorCode.UNPROCESSABLE;
}

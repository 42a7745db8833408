import type { AuditEvent } from '@medplum/fhirtypes';

/**
 * What one request (or one entry of a Bundle) has already done about its audit, so that it leaves
 * exactly one AuditEvent per interaction and never two:
 *
 * - `wrote`: writes that put their AuditEvent into their own statement (write-record.ts). They
 *   stand only if the write committed, which a success status tells; a failure rolled them back.
 * - `recorded`: AuditEvents written whatever the request's outcome (a FHIR message leaves one,
 *   processed or rejected, in a statement of its own).
 * - `pending`: AuditEvents of parts that wrote nothing (a read or a search in a batch, an entry
 *   refused), inserted together when the request ends.
 *
 * A request none of whose parts audited itself gets its own AuditEvent (audit/middleware.ts).
 */
export class AuditScope {
  wrote = 0;
  recorded = 0;
  readonly pending: AuditEvent[] = [];
  /** What the request is when its path cannot tell: a Bundle POSTed to the base is a batch or a transaction. */
  interaction?: 'batch' | 'transaction';

  /** Whether a part of the request has its AuditEvent, given whether the request succeeded. */
  audited(succeeded: boolean): boolean {
    return this.recorded > 0 || (succeeded && (this.wrote > 0 || this.pending.length > 0));
  }

  /** A scope for a part (a Bundle entry), adopted into this one by `settle`. */
  child(): AuditScope {
    return new AuditScope();
  }

  /**
   * Ends a part: when it succeeded, what it audited is this scope's too; when it failed, its writes
   * were rolled back and only what it recorded regardless stands. A part that audited nothing
   * leaves `own()`, its AuditEvent.
   */
  settle(part: AuditScope, succeeded: boolean, own?: () => AuditEvent): void {
    const audited = part.audited(succeeded);
    this.recorded += part.recorded;
    if (succeeded) {
      this.wrote += part.wrote;
      this.pending.push(...part.pending);
    }
    if (!audited && own) this.pending.push(own());
  }
}

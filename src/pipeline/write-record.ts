import type { AuditEvent, Reference, Resource } from '@medplum/fhirtypes';
import { auditEvent, type AuditRequest } from '../audit/audit-event.js';
import type { AuditScope } from '../audit/audit-scope.js';
import { patientOfResource } from '../audit/patient.js';
import type { Principal } from '../security/principal.js';
import type { WriteRecord } from '../store/resource-store.js';

/** Where a write came from, as its AuditEvent records it. */
export interface WriteOrigin {
  /** The route: `rest` (a REST call or a Bundle entry), `message`, `scheduler`, `page`. */
  route: 'rest' | 'message' | 'scheduler' | 'page';
  /** Stepwise's FHIR base URL (the audit's observer). */
  baseUrl: string;
  /** Who asked; before sign-in exists, what the request says of itself. */
  requestor?: AuditRequest['requestor'];
  /** X-Request-ID, when the request had one. */
  requestId?: string;
  /** The pathway operation that made the write ($claim, $accept…), for its Provenance's activity. */
  activity?: string;
  /** The request's audit (audit/audit-scope.ts): a write that records its AuditEvent says so, so the request adds none. */
  audit?: AuditScope;
  /** Who asked, authenticated (REST): whether it may change what Stepwise publishes (published-guard.ts). None for the server's own writes. */
  principal?: Principal;
}

const ACTION = { create: 'C', update: 'U', patch: 'U', delete: 'D' } as const;

/**
 * The AuditEvent of a write (R4 auditevent.html, REST subtype), made from the version as stored
 * and created in the same statement: `interaction` is what the client asked for, and an update that
 * created the resource is recorded as the create it was.
 */
export function writeRecord(origin: WriteOrigin, interaction: 'create' | 'update' | 'patch'): WriteRecord {
  return (stored, created) => {
    const done = created ? 'create' : interaction;
    const version = `${stored.resourceType}/${stored.id}/_history/${stored.meta!.versionId}`;
    return recordOf(origin, done, `${stored.resourceType}/${stored.id}`, version, new Date(stored.meta!.lastUpdated!), created ? 201 : 200, patientOfResource(stored));
  };
}

/** The AuditEvent of a deletion, as `writeRecord`. */
export function deletionRecord(origin: WriteOrigin, type: string, id: string, at: Date): (versionId: number) => Resource {
  return (versionId) => recordOf(origin, 'delete', `${type}/${id}`, `${type}/${id}/_history/${versionId}`, at, 200);
}

/** One write's AuditEvent; counted on the request's audit scope, so the request adds none of its own. */
function recordOf(origin: WriteOrigin, done: keyof typeof ACTION, target: string, version: string, recorded: Date, status: number, patient?: Reference): AuditEvent {
  if (origin.audit) origin.audit.wrote++;
  return auditEvent({
    interaction: done,
    action: ACTION[done],
    recorded,
    status,
    requestor: origin.requestor ?? { name: `${origin.route} client` },
    observer: origin.baseUrl,
    request: { name: `${done} ${target}`, details: { 'X-Request-ID': origin.requestId, route: origin.route } },
    focus: [{ reference: version }],
    patient,
  });
}

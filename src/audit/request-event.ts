import type { AuditEvent, Reference, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../errors.js';
import { interactionOf } from '../http/fhir-interaction.js';
import { auditEvent, type AuditRequest } from './audit-event.js';
import { patientOfRequest, patientOfResource } from './patient.js';

/** One interaction as its audit sees it: a REST request, or one entry of a batch or transaction. */
export interface AuditedInteraction {
  method: string;
  /** Below the FHIR base, without slashes at either end. */
  path: string;
  query: readonly [string, string][];
  status: number;
  /** What was thrown, for a failure: its message is the outcome's description. */
  error?: unknown;
  /** The resource answered (a read's resource, an operation's output), for its patient. */
  body?: Resource;
  /** The interaction when the path cannot tell it (a Bundle POSTed to the base: batch or transaction). */
  interaction?: string;
  /** The entry of a Bundle this is. */
  entry?: number;
}

export interface AuditedBy {
  requestor: AuditRequest['requestor'];
  baseUrl: string;
  requestId?: string;
  recorded: Date;
}

/**
 * The RESTful interaction (R4 restful-interaction) and the CRUDE action of BALP's patterns:
 * Read R (read, vread, history), Query E (search), Create C, Update U (update, patch), Delete D,
 * and E for operations and Bundles (https://profiles.ihe.net/ITI/BALP/content.html#3573-restful-activities).
 */
function subtypeOf(method: string, path: string): { interaction?: string; action: AuditEvent['action'] } {
  const { interaction } = interactionOf(method, path);
  switch (interaction) {
    case 'read':
    case 'vread':
    case 'capabilities':
      return { interaction, action: 'R' };
    case 'history': {
      const s = path.split('/');
      return { interaction: s[0] === '_history' ? 'history-system' : s.length === 2 ? 'history-type' : 'history-instance', action: 'R' };
    }
    case 'search-type':
    case 'search-system':
      return { interaction, action: 'E' };
    case 'create':
      return { interaction, action: 'C' };
    case 'update':
    case 'patch':
      return { interaction, action: 'U' };
    case 'delete':
      return { interaction, action: 'D' };
    case 'transaction':
    case 'batch':
    case 'operation':
      return { interaction, action: 'E' };
    default:
      return { action: 'E' };
  }
}

/** The resource a path names: `Type/id`, or the exact version of a vread. */
function focusOf(path: string): Reference | undefined {
  const s = path.split('/');
  if (s.length < 2 || !/^[A-Z][A-Za-z]+$/.test(s[0]) || /^[_$]/.test(s[1])) return undefined;
  return { reference: s.length === 4 && s[2] === '_history' ? path : `${s[0]}/${s[1]}` };
}

/** A failure's description: what the client was told, never an internal error's detail. */
function outcomeText(a: AuditedInteraction): string | undefined {
  if (a.status < 400) return undefined;
  if (a.error instanceof FhirError) return a.error.message;
  return a.error ? 'internal error; logged with the request id' : `HTTP ${a.status}`;
}

/**
 * The AuditEvent of an interaction that left none of its own (a write records its own, in its
 * statement): BALP's RESTful patterns (https://profiles.ihe.net/ITI/BALP/), Read, Query, and the
 * failed or refused Create, Update and Delete. What: the interaction, the resource of the path, a
 * search's query (base64, role 24 Query); who: the requestor and those it acts with; from where:
 * its network address; the outcome (0, 4 or 8) with what went wrong; and the patient involved.
 *
 * Reads and searches of the audit trail itself are audited too, but name no patient: an
 * auditor's look at the trail is not an access to the person's record, and must not show up as
 * one when the trail of that record is read.
 */
export function interactionAuditEvent(a: AuditedInteraction, by: AuditedBy): AuditEvent {
  const { interaction, action } = a.interaction ? { interaction: a.interaction, action: 'E' as const } : subtypeOf(a.method, a.path);
  const type = a.path.split('/')[0];
  const ofTrail = type === 'AuditEvent';
  const searching = interaction?.startsWith('search') || interaction?.startsWith('history');
  const body = a.body && a.body.resourceType !== 'Bundle' && a.body.resourceType !== 'OperationOutcome' ? a.body : undefined;
  const patient = ofTrail ? undefined : (patientOfRequest(a.path, a.query) ?? (body ? patientOfResource(body) : undefined));
  const focus = focusOf(a.path);
  return auditEvent({
    interaction,
    action,
    recorded: by.recorded,
    status: a.status,
    outcomeText: outcomeText(a),
    requestor: by.requestor,
    observer: by.baseUrl,
    request: {
      name: `${a.method} /${a.path}${a.entry !== undefined ? ` (Bundle.entry[${a.entry}])` : ''}`,
      details: { 'X-Request-ID': by.requestId, route: 'rest' },
    },
    focus: focus ? [focus] : [],
    patient,
    ...(searching && a.query.length ? { query: new URLSearchParams(a.query as [string, string][]).toString() } : {}),
  });
}

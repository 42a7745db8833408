import type { AuditEvent, AuditEventAgent, AuditEventEntity, Identifier, Reference } from '@medplum/fhirtypes';

/**
 * AuditEvent resources (http://hl7.org/fhir/R4/auditevent.html), written in the same statement as
 * what they record so that an audited change and its record commit or fail together. A request
 * that fails leaves its AuditEvent (outcome 4 or 8) and nothing else.
 *
 * Types follow R4's own REST auditing: type `rest`, subtype the RESTful interaction, action the
 * CRUDE letter; the requesting system is the agent with `requestor = true`, Stepwise the observer.
 */
export const AUDIT = {
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
  interaction: 'http://hl7.org/fhir/restful-interaction',
  sourceType: { system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' },
  /** DICOM roles of a system that sends data (http://dicom.nema.org/resources/ontology/DCM). */
  sourceRole: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110153', display: 'Source Role ID' },
  /** The server's role in BALP's REST patterns: the client is the source, the server the destination. */
  destinationRole: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110152', display: 'Destination Role ID' },
  entityType: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
  objectRole: 'http://terminology.hl7.org/CodeSystem/object-role',
} as const;

/** 0 success, 4 minor failure (the client's error), 8 serious failure (ours), per AuditEvent.outcome. */
export type AuditOutcome = '0' | '4' | '8';

export function auditOutcome(status: number): AuditOutcome {
  return status >= 500 ? '8' : status >= 400 ? '4' : '0';
}

export interface AuditRequest {
  /** The RESTful interaction: `operation` for $process-message, `create`, `search-type`, …; none for a request that names no interaction. */
  interaction?: string;
  action: AuditEvent['action'];
  recorded: Date;
  status: number;
  /** What went wrong, for a failure. */
  outcomeText?: string;
  /**
   * The requesting system or user: who it is (an ODS code, a client id, a user at an identity
   * provider, a name), where it answers (`endpoint`), the network address it called from
   * (`address`), and the agents it acts with (BALP: the client app a user signed in with, their
   * organisation), recorded beside it without `requestor`.
   */
  requestor: { identifier?: Identifier; name?: string; endpoint?: string; address?: string; alongside?: AuditEventAgent[] };
  /** Stepwise's FHIR base URL. */
  observer: string;
  /** The message or request itself: an identifier and details such as X-Request-ID. */
  request?: { identifier?: Identifier; name?: string; details?: Record<string, string | undefined> };
  /** The resources acted on: the focus (role 4 "domain resource"), the patient (role 1). */
  focus?: Reference[];
  patient?: Reference;
  /** A search's query string (BALP Query: an entity of role 24 "Query" holding it in base64). */
  query?: string;
}

export function auditEvent(req: AuditRequest): AuditEvent {
  const agent: AuditEventAgent = {
    type: { coding: [AUDIT.sourceRole] },
    who: { ...(req.requestor.identifier ? { identifier: req.requestor.identifier } : {}), display: req.requestor.name ?? req.requestor.identifier?.value ?? 'unidentified system' },
    requestor: true,
    ...networkOf(req.requestor),
  };
  const entity: AuditEventEntity[] = [];
  if (req.request) {
    const detail = Object.entries(req.request.details ?? {})
      .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length > 0)
      .map(([type, value]) => ({ type, valueString: value.slice(0, 1024) }));
    entity.push({
      ...(req.request.identifier ? { what: { identifier: req.request.identifier } } : {}),
      type: { system: AUDIT.entityType, code: '2', display: 'System Object' },
      ...(req.request.name ? { name: req.request.name } : {}),
      ...(detail.length ? { detail } : {}),
    });
  }
  if (req.patient) entity.push(patientEntity(req.patient));
  for (const what of req.focus ?? []) entity.push(resourceEntity(what));
  if (req.query !== undefined) {
    entity.push({ type: { system: AUDIT.entityType, code: '2', display: 'System Object' }, role: { system: AUDIT.objectRole, code: '24', display: 'Query' }, query: Buffer.from(req.query, 'utf8').toString('base64') });
  }
  const outcome = auditOutcome(req.status);
  // BALP: the server is the destination of the request, beside the requestor (and those it acts with)
  const server: AuditEventAgent = { type: { coding: [AUDIT.destinationRole] }, who: { display: `Stepwise ${req.observer}` }, requestor: false, network: { address: req.observer.slice(0, 1024), type: '5' } };
  return {
    resourceType: 'AuditEvent',
    type: AUDIT.type,
    ...(req.interaction ? { subtype: [{ system: AUDIT.interaction, code: req.interaction }] } : {}),
    action: req.action,
    recorded: req.recorded.toISOString(),
    outcome,
    ...(outcome !== '0' && req.outcomeText ? { outcomeDesc: req.outcomeText.slice(0, 1024) } : {}),
    agent: [agent, ...(req.requestor.alongside ?? []), server],
    source: { observer: { display: `Stepwise ${req.observer}` }, type: [AUDIT.sourceType] },
    ...(entity.length ? { entity } : {}),
  };
}

/** BALP's entity for the person an event is about (type Person, role Patient). */
export function patientEntity(what: Reference): AuditEventEntity {
  return { what, type: { system: AUDIT.entityType, code: '1', display: 'Person' }, role: { system: AUDIT.objectRole, code: '1', display: 'Patient' } };
}

/** BALP's entity for a resource an event acted on (type System Object, role Domain Resource). */
export function resourceEntity(what: Reference): AuditEventEntity {
  return { what, type: { system: AUDIT.entityType, code: '2', display: 'System Object' }, role: { system: AUDIT.objectRole, code: '4', display: 'Domain Resource' } };
}

/** Where the requestor answers (a URI, type 5) or called from (an IP address, type 2; R4 network-type). */
function networkOf(r: AuditRequest['requestor']): Pick<AuditEventAgent, 'network'> {
  if (r.address) return { network: { address: r.address.slice(0, 1024), type: '2' } };
  if (r.endpoint) return { network: { address: r.endpoint.slice(0, 1024), type: '5' } };
  return {};
}

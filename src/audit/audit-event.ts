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
  entityType: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
  objectRole: 'http://terminology.hl7.org/CodeSystem/object-role',
} as const;

/** 0 success, 4 minor failure (the client's error), 8 serious failure (ours), per AuditEvent.outcome. */
export type AuditOutcome = '0' | '4' | '8';

export function auditOutcome(status: number): AuditOutcome {
  return status >= 500 ? '8' : status >= 400 ? '4' : '0';
}

export interface AuditRequest {
  /** The RESTful interaction: `operation` for $process-message, `create`, `search-type`, … */
  interaction: string;
  action: AuditEvent['action'];
  recorded: Date;
  status: number;
  /** What went wrong, for a failure. */
  outcomeText?: string;
  /** The requesting system: who it says it is (an ODS code, a name) and where it answers. */
  requestor: { identifier?: Identifier; name?: string; endpoint?: string };
  /** Stepwise's FHIR base URL. */
  observer: string;
  /** The message or request itself: an identifier and details such as X-Request-ID. */
  request?: { identifier?: Identifier; name?: string; details?: Record<string, string | undefined> };
  /** The resources acted on: the focus (role 4 "domain resource"), the patient (role 1). */
  focus?: Reference[];
  patient?: Reference;
}

export function auditEvent(req: AuditRequest): AuditEvent {
  const agent: AuditEventAgent = {
    type: { coding: [AUDIT.sourceRole] },
    who: { ...(req.requestor.identifier ? { identifier: req.requestor.identifier } : {}), display: req.requestor.name ?? req.requestor.identifier?.value ?? 'unidentified system' },
    requestor: true,
    ...(req.requestor.endpoint ? { network: { address: req.requestor.endpoint.slice(0, 1024), type: '5' as const } } : {}),
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
  if (req.patient) entity.push({ what: req.patient, type: { system: AUDIT.entityType, code: '1', display: 'Person' }, role: { system: AUDIT.objectRole, code: '1', display: 'Patient' } });
  for (const what of req.focus ?? []) entity.push({ what, type: { system: AUDIT.entityType, code: '2', display: 'System Object' }, role: { system: AUDIT.objectRole, code: '4', display: 'Domain Resource' } });
  const outcome = auditOutcome(req.status);
  return {
    resourceType: 'AuditEvent',
    type: AUDIT.type,
    subtype: [{ system: AUDIT.interaction, code: req.interaction }],
    action: req.action,
    recorded: req.recorded.toISOString(),
    outcome,
    ...(outcome !== '0' && req.outcomeText ? { outcomeDesc: req.outcomeText.slice(0, 1024) } : {}),
    agent: [agent],
    source: { observer: { display: `Stepwise ${req.observer}` }, type: [AUDIT.sourceType] },
    ...(entity.length ? { entity } : {}),
  };
}

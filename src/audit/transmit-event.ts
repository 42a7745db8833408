import type { AuditEvent, AuditEventEntity } from '@medplum/fhirtypes';
import { AUDIT, auditOutcome, patientEntity, resourceEntity } from './audit-event.js';

/**
 * The AuditEvent of a message sent to a partner (src/delivery), one per message when it is
 * delivered or goes dead, after IHE BALP's disclosure at the source
 * (https://profiles.ihe.net/ITI/BALP/StructureDefinition-IHE.BasicAudit.PrivacyDisclosure.Source.html):
 * type DICOM 110106 Export, subtype ISO 21089 `transmit`, action R; Stepwise the source (DICOM
 * 110153, the requestor: it chose to send) and the partner the destination (110152, its endpoint);
 * the patient the message is about (entity role 1) and the message itself (its X-Request-ID).
 */
export const TRANSMIT = {
  type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' },
  subtype: { system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'transmit', display: 'Transmit Record Lifecycle Event' },
} as const;

export interface Transmission {
  recorded: Date;
  /** The partner's HTTP status, none when it was never reached. */
  status: number | null;
  delivered: boolean;
  /** What went wrong, for a message that went dead. */
  error?: string | null;
  /** Who sent: our ODS code and name (NHSD-End-User-Organisation). */
  sender: { odsCode: string; name: string };
  /** The partner as configured (id and endpoint), or the address no partner is configured for. */
  partner: { id: string; endpoint?: string };
  /** The message: its X-Request-ID, its topic, the outbox row and how many attempts it took. */
  message: { requestId: string; topic: string; outboxId: string; attempts: number };
  /** `Patient/<id>` the message is about, if it names one of ours. */
  patient?: string;
  /** The record the message is about (`ServiceRequest/<id>`, `Task/<id>`), if known. */
  focus?: string;
}

export function transmitAuditEvent(t: Transmission): AuditEvent {
  // delivered: 0; the partner refused it (4xx): 4; never delivered (network, 5xx, horizon): 8
  const outcome = t.delivered ? '0' : auditOutcome(t.status !== null && t.status >= 400 && t.status < 500 ? t.status : 500);
  const entity: AuditEventEntity[] = [];
  if (t.patient) entity.push(patientEntity({ reference: t.patient }));
  if (t.focus) entity.push(resourceEntity({ reference: t.focus }));
  entity.push({
    what: { identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${t.message.requestId}` } },
    type: { system: AUDIT.entityType, code: '2', display: 'System Object' },
    name: t.message.topic,
    detail: [
      { type: 'X-Request-ID', valueString: t.message.requestId },
      { type: 'outbox', valueString: t.message.outboxId },
      { type: 'attempts', valueString: String(t.message.attempts) },
      ...(t.status !== null ? [{ type: 'partner-status', valueString: String(t.status) }] : []),
    ],
  });
  return {
    resourceType: 'AuditEvent',
    type: TRANSMIT.type,
    subtype: [TRANSMIT.subtype],
    action: 'R',
    recorded: t.recorded.toISOString(),
    outcome,
    ...(outcome !== '0' && t.error ? { outcomeDesc: t.error.slice(0, 1024) } : {}),
    agent: [
      {
        type: { coding: [AUDIT.sourceRole] },
        who: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: t.sender.odsCode }, display: `Stepwise (${t.sender.name})` },
        requestor: true,
      },
      {
        type: { coding: [AUDIT.destinationRole] },
        who: { display: `partner ${t.partner.id}` },
        requestor: false,
        ...(t.partner.endpoint ? { network: { address: t.partner.endpoint.slice(0, 1024), type: '5' as const } } : {}),
      },
    ],
    source: { observer: { display: `Stepwise (${t.sender.name})` }, type: [AUDIT.sourceType] },
    entity,
  };
}

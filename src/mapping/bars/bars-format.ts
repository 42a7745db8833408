import type { Bundle, BundleEntry, MessageHeader, OperationOutcomeIssue, Organization, Reference, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { STEPWISE_CANONICAL_BASE } from '../../fhir/canonical.js';
import { BARS } from '../../messaging/bars.js';
import { readMessage } from '../../messaging/message.js';
import type { Mapped, PartnerFormat, Payload } from '../format.js';
import { partnerMappings } from '../mapping-data.js';
import { runStructureMap } from '../transform.js';
import { barsDefects } from './bars-defects.js';

export const BARS_BUNDLE_PROFILE = 'https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage';
export const HANDOVER_EVENT = { system: `${STEPWISE_CANONICAL_BASE}/CodeSystem/message-event`, code: 'handover-request' } as const;
const TASK_CODE = `${STEPWISE_CANONICAL_BASE}/CodeSystem/task-code`;

/**
 * `bars` (both ways; mappings/bars/README.md). In: a BaRS message is already what the messaging
 * front door reads, so `read` checks its envelope, names its defects and gives it back as it is.
 * Out: a crisis referral becomes a BaRS servicerequest-request referral message
 * (maps/fhir-to-bars-referral.map), a step-down handover a BaRS-shaped handover-request message
 * carrying its transition plan and checklist (maps/fhir-to-bars-handover.map). A message that is
 * already BaRS is written as it is, so bars -> fhir -> bars gives back the same message.
 */
export const barsFormat: PartnerFormat = {
  name: 'bars',
  mediaType: 'application/fhir+json',
  read: async (payload) => readBars(payload),
  write: async (bundle) => writeBars(bundle),
};

export function readBars(payload: Payload): Mapped<Bundle> {
  if (typeof payload !== 'string') throw new FhirError(FhirErrorCode.INVALID, 'A BaRS message is one JSON document, not a set of tables');
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch (err) {
    throw new FhirError(FhirErrorCode.INVALID, { message: `A BaRS message must be JSON: ${(err as Error).message}`, code: 'structure' });
  }
  const { message, issues } = readMessage(body);
  // an envelope that cannot be read cannot be routed: the only refusal
  if (!message || issues.length) throw new FhirError(FhirErrorCode.INVALID, issues.length ? issues : [{ message: 'Not a message', expression: 'Bundle' }]);
  return { result: message.bundle, issues: barsDefects(message.bundle) };
}

export function writeBars(bundle: Bundle): Mapped<Payload> {
  if (isBarsMessage(bundle)) return { result: JSON.stringify(bundle), issues: barsDefects(bundle) };
  const entries = bundle.entry ?? [];
  const handover = entries.some((e) => isHandoverTask(e.resource));
  const referrals = entries.filter((e) => e.resource?.resourceType === 'ServiceRequest');
  if (!handover && referrals.length !== 1) {
    throw new FhirError(FhirErrorCode.INVALID, {
      message: `Nothing to write as BaRS: a crisis referral is a Bundle with one ServiceRequest (this one has ${referrals.length}), a handover one with a Task of code ${TASK_CODE}#transfer-of-responsibility`,
      expression: 'Bundle.entry',
    });
  }
  const mapping = partnerMappings('bars');
  const map = mapping.structureMaps.get(handover ? 'fhir-to-bars-handover' : 'fhir-to-bars-referral')!;
  const target = { type: 'Bundle', value: { resourceType: 'Bundle' } as Bundle };
  const message = runStructureMap(map, { type: 'Bundle', value: structuredClone(bundle) }, target, mapping.transformMaps);
  const issues = [...setSource(message), ...setDestination(message, handover), ...notCarried(bundle, message), ...barsDefects(message)];
  return { result: JSON.stringify(message), issues };
}

/** Already a BaRS message (or a BaRS-shaped handover): written as it is. */
function isBarsMessage(bundle: Bundle): boolean {
  const header = bundle.entry?.[0]?.resource as MessageHeader | undefined;
  if (bundle.type !== 'message' || header?.resourceType !== 'MessageHeader') return false;
  if (header.eventCoding?.system === BARS.events) return true;
  return header.eventCoding?.code === HANDOVER_EVENT.code && (bundle.meta?.profile ?? []).includes(BARS_BUNDLE_PROFILE);
}

function isHandoverTask(resource: Resource | undefined): resource is Task {
  return resource?.resourceType === 'Task' && Boolean(resource.code?.coding?.some((c) => c.system === TASK_CODE && c.code === 'transfer-of-responsibility'));
}

/**
 * Step in code "source": a message names the system it comes from (MessageHeader.source.endpoint,
 * required). Kept from the source message; a Bundle from the store has none, and Stepwise itself
 * is the sender: its canonical base names it until the outbox, which knows the deployment's
 * address, sends it.
 */
function setSource(message: Bundle): OperationOutcomeIssue[] {
  const header = message.entry![0].resource as MessageHeader;
  if (header.source?.endpoint) return [];
  header.source = { ...header.source, name: header.source?.name ?? 'Stepwise', endpoint: STEPWISE_CANONICAL_BASE };
  const diagnostics = `MessageHeader.source: the Bundle came from no message, so the sender is Stepwise (${STEPWISE_CANONICAL_BASE})`;
  return [{ severity: 'information', code: 'informational', diagnostics, details: { text: diagnostics }, expression: ['Bundle.entry[0].resource.source'] }];
}

/**
 * Step in code "destination": BaRS routes a message by the receiving service's DoS id
 * (MessageHeader.destination.endpoint `https://fhir.nhs.uk/Id/dos-service-id|<id>`). Kept when the
 * source message had one; otherwise read from the referral's performer (a HealthcareService with a
 * DoS id) or the handover's receiving team. The language cannot follow a reference to another
 * entry and read its identifier.
 */
function setDestination(message: Bundle, handover: boolean): OperationOutcomeIssue[] {
  const header = message.entry![0].resource as MessageHeader;
  if (header.destination?.some((d) => d.endpoint)) return [];
  const entries = message.entry ?? [];
  const focus = entries.find((e) => e.fullUrl && e.fullUrl === header.focus?.[0]?.reference)?.resource as ServiceRequest | Task | undefined;
  const candidates = handover ? [(focus as Task | undefined)?.owner] : ((focus as ServiceRequest | undefined)?.performer ?? []);
  for (const ref of candidates) {
    const target = entries.find((e) => e.fullUrl && e.fullUrl === ref?.reference)?.resource as { identifier?: { system?: string; value?: string }[] } | undefined;
    const dos = [...(target?.identifier ?? []), ...(ref?.identifier ? [ref.identifier] : [])].find((i) => i.system === BARS.dosServiceId && i.value);
    if (dos) {
      const receiver = handover && ref ? { receiver: ref as Reference<Organization> } : {};
      header.destination = [{ endpoint: `${BARS.dosServiceId}|${dos.value}`, ...receiver, ...(header.destination?.[0] ?? {}) }];
      return [];
    }
  }
  const diagnostics = `No destination: the ${handover ? "handover's receiving team (Task.owner)" : "referral's performer (ServiceRequest.performer)"} has no DoS service id (${BARS.dosServiceId}); set MessageHeader.destination before sending`;
  return [{ severity: 'warning', code: 'required', diagnostics, details: { text: diagnostics }, expression: ['Bundle.entry[0].resource.destination'] }];
}

/**
 * Step in code "report what is not carried": a field of the referral, person or consent that the
 * map does not copy is named, never dropped silently. The language has no reflection over a
 * source's fields.
 */
function notCarried(source: Bundle, message: Bundle): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const out = new Map(message.entry?.map((e) => [e.fullUrl, e.resource] as const));
  (source.entry ?? []).forEach((e: BundleEntry, i) => {
    const written = e.fullUrl ? out.get(e.fullUrl) : undefined;
    if (!e.resource || e.resource.resourceType === 'MessageHeader') return;
    if (!written) {
      const diagnostics = `${e.resource.resourceType} not carried: an entry needs a fullUrl to be referred to in the message`;
      issues.push({ severity: 'warning', code: 'not-supported', diagnostics, details: { text: diagnostics }, expression: [`Bundle.entry[${i}]`] });
      return;
    }
    for (const key of Object.keys(e.resource)) {
      if (key === 'meta' || key in written) continue;
      const diagnostics = `${e.resource.resourceType}.${key} has no place in the BaRS message: not carried`;
      issues.push({ severity: 'warning', code: 'not-supported', diagnostics, details: { text: diagnostics }, expression: [`Bundle.entry[${i}].resource.${key}`] });
    }
  });
  return issues;
}

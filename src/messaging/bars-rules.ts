import type { CarePlan, CodeSystem, Consent, Encounter, Flag, MessageDefinition, OperationOutcomeIssue, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { FhirErrorCode, type IssueInit } from '../errors.js';
import type { Validator } from '../fhir/validation/index.js';
import { BARS, barsError, IDENTIFIER } from './bars.js';
import { focusRules, type MessageCatalogue } from './catalogue.js';
import { barsConformanceResources, validateAgainstProfiles } from './conformance.js';
import type { BarsHeaders } from './headers.js';
import { entriesOfType, HEADER_PATH, type Message, type MessageEntry } from './message.js';
import { MD, type HostedService } from '../config/bars-services.js';

/** What a BaRS servicerequest-request asks for (Standard-Pattern-For-Composites). */
export type RequestKind = 'new' | 'update' | 'cancel';

export interface BarsCheck {
  service: HostedService;
  definition: MessageDefinition;
  kind: RequestKind;
  focus?: MessageEntry & { resource: ServiceRequest };
}

const CANCELLED = new Set(['revoked', 'entered-in-error']);

function codes(url: string): Set<string> {
  const cs = barsConformanceResources().find((r): r is CodeSystem => r.resourceType === 'CodeSystem' && r.url === url);
  return new Set((cs?.concept ?? []).map((c) => c.code));
}

let codeSets: { events: Set<string>; reasons: Set<string>; flagCategories: Set<string>; useCases: Set<string> } | undefined;
function barsCodes() {
  codeSets ??= { events: codes(BARS.events), reasons: codes(BARS.reasons), flagCategories: codes(BARS.flagCategories), useCases: codes(BARS.useCases) };
  return codeSets;
}

export function isBarsEvent(system: string | undefined): boolean {
  return system === BARS.events;
}

/**
 * The BaRS receiver's checks of a message, in the order a receiver can answer them: the target
 * service (404), what it accepts (422), then the content against the MessageDefinition, the
 * profiles and the BaRS business rules (400). Each stage reports every problem it finds.
 */
export function checkBarsMessage(message: Message, headers: BarsHeaders, catalogue: MessageCatalogue, validator: Validator): BarsCheck {
  const { events, reasons } = barsCodes();
  const event = message.event.code!;
  const envelope: IssueInit[] = [];
  if (!events.has(event)) envelope.push({ code: 'value', expression: `${HEADER_PATH}.eventCoding.code`, message: `'${event}' is not an event of ${BARS.events} (${[...events].join(', ')})` });
  if (!message.reason) envelope.push({ code: 'required', expression: `${HEADER_PATH}.reason`, message: `A BaRS MessageHeader needs reason.coding from ${BARS.reasons} (new, update or delete)` });
  else if (!reasons.has(message.reason)) envelope.push({ code: 'value', expression: `${HEADER_PATH}.reason.coding[0].code`, message: `'${message.reason}' is not a reason of ${BARS.reasons} (${[...reasons].join(', ')})` });
  if (headers.useContext) {
    if (headers.useContext.event !== event) envelope.push({ code: 'value', expression: 'http.use-context', message: `use-context names event '${headers.useContext.event}' but the MessageHeader's event is '${event}'` });
    if (message.reason && headers.useContext.reason !== message.reason) envelope.push({ code: 'value', expression: 'http.use-context', message: `use-context names reason '${headers.useContext.reason}' but the MessageHeader's reason is '${message.reason}'` });
  }
  if (envelope.length) throw barsError(FhirErrorCode.INVALID, envelope);

  // The target: NHSD-Target-Identifier names a service hosted here, and the MessageHeader agrees.
  const target = headers.target!;
  if (target.system !== BARS.dosServiceId) {
    throw barsError(FhirErrorCode.INVALID, { code: 'value', expression: 'http.NHSD-Target-Identifier', message: `NHSD-Target-Identifier: system must be ${BARS.dosServiceId}, not ${target.system}` });
  }
  const service = catalogue.service(target.value);
  if (!service) throw barsError(FhirErrorCode.NOT_FOUND, { code: 'not-found', expression: 'http.NHSD-Target-Identifier', message: `No service with DoS id ${target.value} is hosted here` });
  const endpoints = (message.header.destination ?? []).map((d) => d.endpoint);
  const wanted = `${BARS.dosServiceId}|${service.dosId}`;
  if (!endpoints.includes(wanted)) {
    throw barsError(FhirErrorCode.INVALID, {
      code: 'invariant',
      expression: `${HEADER_PATH}.destination`,
      message: `MessageHeader.destination.endpoint must be ${wanted}, the service named by NHSD-Target-Identifier (found ${endpoints.join(', ') || 'none'})`,
    });
  }

  // What the message asks for, and whether this service takes it.
  const sr = message.focus.find((f) => f.resource.resourceType === 'ServiceRequest') as (MessageEntry & { resource: ServiceRequest }) | undefined;
  const category = sr?.resource.category?.[0]?.coding?.find((c) => c.system === BARS.srCategory)?.code;
  const kind: RequestKind = message.reason === 'delete' || (message.reason === 'update' && sr && CANCELLED.has(sr.resource.status)) ? 'cancel' : message.reason === 'update' ? 'update' : 'new';
  const definitionUrl = message.header.definition ?? derivedDefinition(event, kind, category);
  const definition = definitionUrl ? catalogue.definition(definitionUrl) : undefined;
  if (!definition || !service.definitions.includes(definitionUrl!)) {
    throw barsError(FhirErrorCode.UNPROCESSABLE, {
      code: 'not-supported',
      expression: message.header.definition ? `${HEADER_PATH}.definition` : `${HEADER_PATH}.eventCoding`,
      message: `${service.name} (DoS ${service.dosId}) does not accept ${definitionUrl ?? `${event} messages with reason ${message.reason}`}; it accepts ${service.definitions.join(', ')}`,
    });
  }
  if (definition.eventCoding?.code !== event) {
    throw barsError(FhirErrorCode.INVALID, { code: 'invariant', expression: `${HEADER_PATH}.definition`, message: `MessageDefinition ${definitionUrl} is for ${definition.eventCoding?.code} messages, not ${event}` });
  }
  const useCase = sr?.resource.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === BARS.useCases)?.code;
  if (sr && useCase && !service.useCases.includes(useCase)) {
    throw barsError(FhirErrorCode.UNPROCESSABLE, {
      code: 'not-supported',
      expression: `${sr.path}.category`,
      message: `${service.name} does not take use case ${useCase}; it takes ${service.useCases.join(', ')}`,
    });
  }

  const issues = [...contentIssues(message, definition, kind, sr), ...profileIssues(message, definition, validator)];
  if (issues.length) throw barsError(FhirErrorCode.INVALID, issues);
  return { service, definition, kind, focus: sr };
}

function derivedDefinition(event: string, kind: RequestKind, category: string | undefined): string | undefined {
  if (event === 'servicerequest-request') {
    if (kind === 'cancel') return MD.cancelled;
    return category === 'validation' ? MD.validation : MD.referral;
  }
  if (event === 'servicerequest-response') return MD.responseReferral;
  if (event === 'booking-request') return MD.booking;
  return undefined;
}

/** The MessageDefinition's focus cardinalities and the BaRS business rules. */
function contentIssues(message: Message, md: MessageDefinition, kind: RequestKind, sr: (MessageEntry & { resource: ServiceRequest }) | undefined): IssueInit[] {
  const issues: IssueInit[] = [];
  const rules = focusRules(md);
  const counts = new Map<string, number>();
  for (const e of message.entries) counts.set(e.resource.resourceType, (counts.get(e.resource.resourceType) ?? 0) + 1);
  for (const rule of rules.values()) {
    if (rule.type === 'Bundle') continue;
    const n = counts.get(rule.type) ?? 0;
    if (n < rule.min) issues.push({ code: 'required', expression: 'Bundle.entry', message: `${md.url} requires at least ${rule.min} ${rule.type} (found ${n})` });
    if (n > rule.max) issues.push({ code: 'invariant', expression: 'Bundle.entry', message: `${md.url} allows at most ${rule.max} ${rule.type} (found ${n})` });
  }
  for (const [type, n] of counts) {
    if (!rules.has(type)) {
      const first = message.entries.find((e) => e.resource.resourceType === type)!;
      issues.push({ code: 'invariant', expression: first.path, message: `${md.url} does not allow ${type} resources in the message (found ${n})` });
    }
  }
  const isServiceRequestEvent = message.event.code === 'servicerequest-request' || message.event.code === 'servicerequest-response';
  if (isServiceRequestEvent && !sr) issues.push({ code: 'required', expression: `${HEADER_PATH}.focus`, message: 'MessageHeader.focus must reference the ServiceRequest of the message' });

  if (message.event.code === 'servicerequest-request' && sr) {
    const category = sr.resource.category?.[0]?.coding?.find((c) => c.system === BARS.srCategory)?.code;
    if (kind === 'new' && sr.resource.status !== 'active') issues.push({ code: 'value', expression: `${sr.path}.status`, message: `A new BaRS request needs ServiceRequest.status 'active', not '${sr.resource.status}'` });
    if (kind === 'cancel' && !CANCELLED.has(sr.resource.status)) issues.push({ code: 'value', expression: `${sr.path}.status`, message: `A cancellation (reason ${message.reason}) needs ServiceRequest.status 'revoked' or 'entered-in-error', not '${sr.resource.status}'` });
    if (kind !== 'cancel') {
      if (category !== 'referral' && category !== 'validation') {
        issues.push({ code: 'value', expression: `${sr.path}.category[0]`, message: `ServiceRequest.category[0] needs a coding from ${BARS.srCategory}: 'referral' or 'validation'` });
      } else {
        issues.push(...requestTypeIssues(message, category));
      }
    }
  }
  issues.push(...patientIssues(message, kind), ...flagIssues(message));
  if ((rules.get('Consent')?.min ?? 0) > 0) issues.push(...consentIssues(message));
  return issues;
}

/**
 * CarePlan and Encounter status by request type: a referral needs CarePlan 'completed' and
 * Encounter 'triaged' or 'finished'; a validation needs CarePlan 'active' and Encounter 'triaged'
 * or 'in-progress' (BaRS Standard-Pattern-For-Composites).
 */
function requestTypeIssues(message: Message, category: 'referral' | 'validation'): IssueInit[] {
  const issues: IssueInit[] = [];
  const carePlanStatus = category === 'referral' ? ['completed'] : ['active'];
  const encounterStatus = category === 'referral' ? ['triaged', 'finished'] : ['triaged', 'in-progress'];
  for (const e of entriesOfType<CarePlan>(message, 'CarePlan')) {
    if (!carePlanStatus.includes(e.resource.status)) issues.push({ code: 'value', expression: `${e.path}.status`, message: `A BaRS ${category} needs CarePlan.status ${carePlanStatus.map((s) => `'${s}'`).join(' or ')}, not '${e.resource.status}'` });
  }
  for (const e of entriesOfType<Encounter>(message, 'Encounter')) {
    if (!encounterStatus.includes(e.resource.status)) issues.push({ code: 'value', expression: `${e.path}.status`, message: `A BaRS ${category} needs Encounter.status ${encounterStatus.map((s) => `'${s}'`).join(' or ')}, not '${e.resource.status}'` });
  }
  return issues;
}

/** NHS number verification status and exactly one rank-1 contact with a phone number. */
function patientIssues(message: Message, kind: RequestKind): IssueInit[] {
  const issues: IssueInit[] = [];
  for (const e of entriesOfType<Patient>(message, 'Patient')) {
    (e.resource.identifier ?? []).forEach((id, i) => {
      if (id.system !== IDENTIFIER.nhsNumber) return;
      const status = id.extension?.find((x) => x.url === BARS.nhsNumberVerification)?.valueCodeableConcept?.coding ?? [];
      status.forEach((c, j) => {
        const where = `${e.path}.identifier[${i}].extension[0].valueCodeableConcept.coding[${j}]`;
        if (c.system === BARS.retiredVerificationSystem) {
          issues.push({ code: 'value', expression: `${where}.system`, message: `${c.system} is a retired UK Core code system; NHS number verification status is coded in ${BARS.verificationSystem} (verified: '01')` });
        } else if (c.system === BARS.verificationSystem && c.code !== '01') {
          issues.push({ code: 'value', expression: `${where}.code`, message: `BaRS carries only verified NHS numbers (verification status '01'), not '${c.code}': omit an unverified NHS number` });
        }
      });
    });
    if (kind === 'cancel') continue;
    const rankOne = (e.resource.contact ?? []).filter((c) => c.extension?.some((x) => x.url === BARS.contactRank && x.valuePositiveInt === 1));
    if (rankOne.length !== 1) {
      issues.push({ code: 'invariant', expression: `${e.path}.contact`, message: `A BaRS Patient needs exactly one contact with ContactRank 1 (${BARS.contactRank}); found ${rankOne.length}` });
    } else if (!rankOne[0].telecom?.some((t) => t.system === 'phone' && t.value)) {
      const i = e.resource.contact!.indexOf(rankOne[0]);
      issues.push({ code: 'required', expression: `${e.path}.contact[${i}].telecom`, message: 'The rank-1 patient contact needs a phone number' });
    }
  }
  return issues;
}

/** Flag.category must come from the BaRS flag categories (flag-categories-bars). */
function flagIssues(message: Message): IssueInit[] {
  const { flagCategories } = barsCodes();
  const issues: IssueInit[] = [];
  for (const e of entriesOfType<Flag>(message, 'Flag')) {
    const codings = (e.resource.category ?? []).flatMap((c, i) => (c.coding ?? []).map((coding, j) => ({ coding, at: `${e.path}.category[${i}].coding[${j}]` })));
    if (!codings.some(({ coding }) => coding.system === BARS.flagCategories)) {
      const shown = codings.map(({ coding }) => `${coding.system}|${coding.code}`).join(', ') || 'none';
      issues.push({ code: 'value', expression: codings[0]?.at ?? `${e.path}.category`, message: `Flag.category must be coded in ${BARS.flagCategories} (${[...flagCategories].join(', ')}); found ${shown}` });
    }
    for (const { coding, at } of codings) {
      if (coding.system === BARS.flagCategories && !flagCategories.has(coding.code ?? '')) {
        issues.push({ code: 'value', expression: `${at}.code`, message: `'${coding.code}' is not a code of ${BARS.flagCategories} (${[...flagCategories].join(', ')})` });
      }
    }
  }
  return issues;
}

/** BaRS needs the patient's consent to share for direct care: an active Consent of category DRC. */
function consentIssues(message: Message): IssueInit[] {
  const direct = entriesOfType<Consent>(message, 'Consent').filter((e) => e.resource.status === 'active' && e.resource.category?.some((c) => c.coding?.some((x) => x.system === BARS.consentCategories && x.code === 'DRC')));
  return direct.length ? [] : [{ code: 'required', expression: 'Bundle.entry', message: `A BaRS request needs an active Consent for direct care (category ${BARS.consentCategories}|DRC)` }];
}

/**
 * Profile validation: R4, the profiles the resources declare, and the profiles the
 * MessageDefinition names for the Bundle, the MessageHeader and the ServiceRequest when a resource
 * does not declare them itself.
 */
function profileIssues(message: Message, md: MessageDefinition, validator: Validator): IssueInit[] {
  const issues: OperationOutcomeIssue[] = validateAgainstProfiles(validator, message.bundle);
  const rules = focusRules(md);
  const declared = (r: { meta?: { profile?: string[] } }, url: string) => r.meta?.profile?.includes(url);
  const bundleProfile = rules.get('Bundle')?.profiles[0];
  if (bundleProfile && !declared(message.bundle, bundleProfile)) issues.push(...validator.validate({ ...message.bundle, entry: [] }, { profiles: [bundleProfile] }).filter((i) => !/entry/.test(i.expression?.[0] ?? '')));
  for (const type of ['MessageHeader', 'ServiceRequest']) {
    const profile = rules.get(type)?.profiles.find((p) => p.startsWith('https://fhir.nhs.uk/'));
    if (!profile || !validator.registry.getStructureDefinition(profile)) continue;
    for (const e of message.entries.filter((x) => x.resource.resourceType === type && !declared(x.resource, profile))) {
      for (const i of validator.validate(e.resource, { profiles: [profile] })) {
        issues.push({ ...i, expression: i.expression?.map((x) => (x.startsWith(type) ? e.path + x.slice(type.length) : x)) });
      }
    }
  }
  const seen = new Set<string>();
  return issues
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => ({ code: i.code, expression: i.expression?.[0], message: i.diagnostics ?? i.details?.text ?? 'invalid' }))
    .filter((i) => {
      // a resource checked against two profiles can break the same rule twice
      const key = `${i.expression}|${i.message}`;
      return !seen.has(key) && seen.add(key) !== undefined;
    });
}

import type { CarePlan, CodeSystem, Consent, Encounter, Flag, MessageDefinition, Patient, ServiceRequest } from '@medplum/fhirtypes';
import type { IssueInit } from '../errors.js';
import { isProfileIssue, type Validator } from '../fhir/validation/index.js';
import { BARS, IDENTIFIER } from './bars.js';
import { issueInit, judgeIssues, type Verdict } from './content-policy.js';
import { refuse } from './refusals.js';
import { isWithdrawn } from '../pathway/front-door.js';
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
  /** Defects in what the message says: it is accepted, and each is named in the answer. */
  warnings: IssueInit[];
}


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
 * The BaRS receiver's checks of a message, in the order a receiver can answer them: the envelope
 * (400), the target service (404), what the service takes (400), then the MessageDefinition's
 * cardinalities, the BaRS workflow rules and the profiles. Only what stops the message being read
 * or routed refuses it (src/messaging/refusals.ts); defects in what it says come back as warnings.
 */
export function checkBarsMessage(message: Message, headers: BarsHeaders, catalogue: MessageCatalogue, validator: Validator): BarsCheck {
  checkEnvelope(message, headers);
  const service = targetService(message, headers, catalogue);

  // What the message asks for, and whether this service takes it.
  const sr = message.focus.find((f) => f.resource.resourceType === 'ServiceRequest') as (MessageEntry & { resource: ServiceRequest }) | undefined;
  const kind = requestKind(message, sr);
  const category = requestCategory(message, sr);
  const definitionUrl = message.header.definition ?? derivedDefinition(message.event.code!, kind, category);
  const definition = definitionUrl ? catalogue.definition(definitionUrl) : undefined;
  if (!definition || !service.definitions.includes(definitionUrl!)) {
    throw refuse('notAccepted', {
      expression: message.header.definition ? `${HEADER_PATH}.definition` : `${HEADER_PATH}.eventCoding`,
      message: `${service.name} (DoS ${service.dosId}) does not accept ${definitionUrl ?? `${message.event.code} messages with reason ${message.reason}`}; it accepts ${service.definitions.join(', ')}`,
    });
  }
  if (definition.eventCoding?.code !== message.event.code) {
    throw refuse('messageRule', { expression: `${HEADER_PATH}.definition`, message: `MessageDefinition ${definitionUrl} is for ${definition.eventCoding?.code} messages, not ${message.event.code}` });
  }
  if (sr && message.event.code === 'servicerequest-request') checkUseCase(sr, service, kind);

  const rules = [...contentIssues(message, definition, kind, sr, category)];
  const verdict = profileVerdict(message, definition, validator);
  const refusals = [...rules, ...verdict.refusals];
  if (refusals.length) throw refuse('messageRule', refusals);
  const warnings = [...unlistedResources(message, definition), ...verdict.warnings, ...verificationWarnings(message), ...flagWarnings(message)];
  return { service, definition, kind, focus: sr, warnings };
}

/**
 * A cancellation is `reason=delete`, or `reason=update` with the ServiceRequest revoked or
 * entered in error, or a message naming the cancellation MessageDefinition (whose status rule
 * then applies).
 */
function requestKind(message: Message, sr: (MessageEntry & { resource: ServiceRequest }) | undefined): RequestKind {
  if (message.reason === 'delete' || message.header.definition === MD.cancelled) return 'cancel';
  if (message.reason === 'update') return sr && isWithdrawn(sr.resource.status) ? 'cancel' : 'update';
  return 'new';
}

/** The event, the reason, the BaRS version of the Bundle and the use-context header that repeats them. */
function checkEnvelope(message: Message, headers: BarsHeaders): void {
  const { events, reasons } = barsCodes();
  const event = message.event.code!;
  const issues: Omit<IssueInit, 'code'>[] = [];
  if (!message.bundle.meta?.versionId) issues.push({ expression: 'Bundle.meta.versionId', message: 'A BaRS message Bundle carries meta.versionId, the version of the BaRS message it was built to (e.g. 1.0.0)' });
  if (!events.has(event)) issues.push({ expression: `${HEADER_PATH}.eventCoding.code`, message: `'${event}' is not an event of ${BARS.events} (${[...events].join(', ')})` });
  if (!message.reason) issues.push({ expression: `${HEADER_PATH}.reason`, message: `A BaRS MessageHeader needs reason.coding from ${BARS.reasons} (new, update or delete)` });
  else if (!reasons.has(message.reason)) issues.push({ expression: `${HEADER_PATH}.reason.coding[0].code`, message: `'${message.reason}' is not a reason of ${BARS.reasons} (${[...reasons].join(', ')})` });
  if (headers.useContext) {
    if (headers.useContext.event !== event) issues.push({ expression: 'http.use-context', message: `use-context names event '${headers.useContext.event}' but the MessageHeader's event is '${event}'` });
    if (message.reason && headers.useContext.reason !== message.reason) issues.push({ expression: 'http.use-context', message: `use-context names reason '${headers.useContext.reason}' but the MessageHeader's reason is '${message.reason}'` });
  }
  if (issues.length) throw refuse('messageRule', issues);
}

/** NHSD-Target-Identifier names a service hosted here, and the MessageHeader's destination agrees. */
function targetService(message: Message, headers: BarsHeaders, catalogue: MessageCatalogue): HostedService {
  const target = headers.target!;
  if (target.system !== BARS.dosServiceId) {
    throw refuse('malformed', { expression: 'http.NHSD-Target-Identifier', message: `NHSD-Target-Identifier: system must be ${BARS.dosServiceId}, not ${target.system}` });
  }
  const service = catalogue.service(target.value);
  if (!service) throw refuse('unknownService', { expression: 'http.NHSD-Target-Identifier', message: `No service with DoS id ${target.value} is hosted here` });
  const endpoints = (message.header.destination ?? []).map((d) => d.endpoint);
  const wanted = `${BARS.dosServiceId}|${service.dosId}`;
  if (!endpoints.includes(wanted)) {
    throw refuse('messageRule', {
      expression: `${HEADER_PATH}.destination`,
      message: `MessageHeader.destination.endpoint must be ${wanted}, the service named by NHSD-Target-Identifier (found ${endpoints.join(', ') || 'none'})`,
    });
  }
  return service;
}

/**
 * A servicerequest-request says in ServiceRequest.category whether it is a referral or a
 * validation (message-category-servicerequest): without it the request cannot be routed.
 */
function requestCategory(message: Message, sr: (MessageEntry & { resource: ServiceRequest }) | undefined): string | undefined {
  if (!sr || message.event.code !== 'servicerequest-request') return undefined;
  const category = categoryCode(sr, BARS.srCategory);
  if (category !== 'referral' && category !== 'validation') {
    throw refuse('messageRule', { expression: `${sr.path}.category`, message: `ServiceRequest.category needs a coding from ${BARS.srCategory}: 'referral' or 'validation' (found ${category ? `'${category}'` : 'none'})` });
  }
  return category;
}

/** The code of the ServiceRequest's category coding in `system` (the request type, or the use case). */
function categoryCode(sr: MessageEntry & { resource: ServiceRequest }, system: string): string | undefined {
  return sr.resource.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === system)?.code;
}

/** The use case (usecases-categories-bars) must be one BaRS defines and this service takes; a cancellation may leave it out. */
function checkUseCase(sr: MessageEntry & { resource: ServiceRequest }, service: HostedService, kind: RequestKind): void {
  const useCase = categoryCode(sr, BARS.useCases);
  // a cancellation is routed by the referral it names; the use case is the referral's
  if (!useCase && kind === 'cancel') return;
  if (!useCase) {
    throw refuse('messageRule', { expression: `${sr.path}.category`, message: `ServiceRequest.category needs the use case, a coding from ${BARS.useCases}` });
  }
  if (!barsCodes().useCases.has(useCase)) {
    throw refuse('messageRule', { expression: `${sr.path}.category`, message: `'${useCase}' is not a use case of ${BARS.useCases}` });
  }
  if (!service.useCases.includes(useCase)) {
    throw refuse('notAccepted', { expression: `${sr.path}.category`, message: `${service.name} does not take use case ${useCase}; it takes ${service.useCases.join(', ')}` });
  }
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

/** The MessageDefinition's focus cardinalities and the BaRS workflow rules (each refuses the message). */
function contentIssues(message: Message, md: MessageDefinition, kind: RequestKind, sr: (MessageEntry & { resource: ServiceRequest }) | undefined, category: string | undefined): Omit<IssueInit, 'code'>[] {
  const issues: Omit<IssueInit, 'code'>[] = [];
  const rules = focusRules(md);
  const counts = new Map<string, number>();
  for (const e of message.entries) counts.set(e.resource.resourceType, (counts.get(e.resource.resourceType) ?? 0) + 1);
  for (const rule of rules.values()) {
    if (rule.type === 'Bundle') continue;
    const n = counts.get(rule.type) ?? 0;
    if (n < rule.min) issues.push({ expression: 'Bundle.entry', message: `${md.url} requires at least ${rule.min} ${rule.type} (found ${n})` });
    if (n > rule.max) issues.push({ expression: 'Bundle.entry', message: `${md.url} allows at most ${rule.max} ${rule.type} (found ${n})` });
  }
  const isServiceRequestEvent = message.event.code === 'servicerequest-request' || message.event.code === 'servicerequest-response';
  if (isServiceRequestEvent && !sr) issues.push({ expression: `${HEADER_PATH}.focus`, message: 'MessageHeader.focus must reference the ServiceRequest of the message' });

  if (message.event.code === 'servicerequest-request' && sr) {
    if (kind === 'new' && sr.resource.status !== 'active') issues.push({ expression: `${sr.path}.status`, message: `A new BaRS request needs ServiceRequest.status 'active', not '${sr.resource.status}'` });
    if (kind === 'cancel' && !isWithdrawn(sr.resource.status)) issues.push({ expression: `${sr.path}.status`, message: `A cancellation (reason ${message.reason}) needs ServiceRequest.status 'revoked' or 'entered-in-error', not '${sr.resource.status}'` });
    if (kind !== 'cancel') issues.push(...requestTypeIssues(message, category as 'referral' | 'validation'));
  }
  issues.push(...contactIssues(message, kind));
  if ((rules.get('Consent')?.min ?? 0) > 0) issues.push(...consentIssues(message));
  return issues;
}

/**
 * CarePlan and Encounter status by request type: a referral needs CarePlan 'completed' and
 * Encounter 'triaged' or 'finished'; a validation needs CarePlan 'active' and Encounter 'triaged'
 * or 'in-progress' (BaRS Standard-Pattern-For-Composites).
 */
function requestTypeIssues(message: Message, category: 'referral' | 'validation'): Omit<IssueInit, 'code'>[] {
  const issues: Omit<IssueInit, 'code'>[] = [];
  const carePlanStatus = category === 'referral' ? ['completed'] : ['active'];
  const encounterStatus = category === 'referral' ? ['triaged', 'finished'] : ['triaged', 'in-progress'];
  for (const e of entriesOfType<CarePlan>(message, 'CarePlan')) {
    if (!carePlanStatus.includes(e.resource.status)) issues.push({ expression: `${e.path}.status`, message: `A BaRS ${category} needs CarePlan.status ${carePlanStatus.map((s) => `'${s}'`).join(' or ')}, not '${e.resource.status}'` });
  }
  for (const e of entriesOfType<Encounter>(message, 'Encounter')) {
    if (!encounterStatus.includes(e.resource.status)) issues.push({ expression: `${e.path}.status`, message: `A BaRS ${category} needs Encounter.status ${encounterStatus.map((s) => `'${s}'`).join(' or ')}, not '${e.resource.status}'` });
  }
  return issues;
}

/**
 * Resources of a type the MessageDefinition does not list are named, not refused: they do not
 * stop the message being read, and a cancellation carrying them applies only its status.
 */
function unlistedResources(message: Message, md: MessageDefinition): IssueInit[] {
  const rules = focusRules(md);
  const counts = new Map<string, MessageEntry[]>();
  for (const e of message.entries.slice(1)) counts.set(e.resource.resourceType, [...(counts.get(e.resource.resourceType) ?? []), e]);
  return [...counts]
    .filter(([type]) => !rules.has(type))
    .map(([type, entries]) => ({ severity: 'warning', code: 'business-rule', expression: entries[0].path, message: `${md.url} does not list ${type} resources (found ${entries.length}); ${md.url === MD.cancelled ? 'a cancellation only changes the referral' : 'stored as sent'}` }));
}

/** Exactly one rank-1 contact, with a phone number: how the receiver reaches the person (BaRS workflow rule). */
function contactIssues(message: Message, kind: RequestKind): Omit<IssueInit, 'code'>[] {
  if (kind === 'cancel') return [];
  const issues: Omit<IssueInit, 'code'>[] = [];
  for (const e of entriesOfType<Patient>(message, 'Patient')) {
    const rankOne = (e.resource.contact ?? []).filter((c) => c.extension?.some((x) => x.url === BARS.contactRank && x.valuePositiveInt === 1));
    if (rankOne.length !== 1) {
      issues.push({ expression: `${e.path}.contact`, message: `A BaRS Patient needs exactly one contact with ContactRank 1 (${BARS.contactRank}); found ${rankOne.length}` });
    } else if (!rankOne[0].telecom?.some((t) => t.system === 'phone' && t.value)) {
      const i = e.resource.contact!.indexOf(rankOne[0]);
      issues.push({ expression: `${e.path}.contact[${i}].telecom`, message: 'The rank-1 patient contact needs a phone number' });
    }
  }
  return issues;
}

/**
 * NHS number verification status: BaRS 1.x senders code it in the retired UK Core system, and
 * BaRS asks for verified numbers only. Neither stops the referral: each is a warning.
 */
function verificationWarnings(message: Message): IssueInit[] {
  const issues: IssueInit[] = [];
  for (const e of entriesOfType<Patient>(message, 'Patient')) {
    (e.resource.identifier ?? []).forEach((id, i) => {
      if (id.system !== IDENTIFIER.nhsNumber) return;
      (id.extension ?? []).forEach((x, k) => {
        if (x.url !== BARS.nhsNumberVerification) return;
        (x.valueCodeableConcept?.coding ?? []).forEach((c, j) => {
          const where = `${e.path}.identifier[${i}].extension[${k}].valueCodeableConcept.coding[${j}]`;
          if (c.system === BARS.retiredVerificationSystem) {
            issues.push({ severity: 'warning', code: 'code-invalid', expression: `${where}.system`, message: `${c.system} is a retired UK Core code system; NHS number verification status is now coded in ${BARS.verificationSystem} (verified: '01')` });
          } else if (c.system === BARS.verificationSystem && c.code !== '01') {
            issues.push({ severity: 'warning', code: 'value', expression: `${where}.code`, message: `BaRS carries verified NHS numbers (verification status '01'); this one has status '${c.code}', so it was not used to match the person` });
          }
        });
      });
    });
  }
  return issues;
}

/** Flag.category should come from the BaRS flag categories (flag-categories-bars): a warning when it does not. */
function flagWarnings(message: Message): IssueInit[] {
  const { flagCategories } = barsCodes();
  const issues: IssueInit[] = [];
  for (const e of entriesOfType<Flag>(message, 'Flag')) {
    const codings = (e.resource.category ?? []).flatMap((c, i) => (c.coding ?? []).map((coding, j) => ({ coding, at: `${e.path}.category[${i}].coding[${j}]` })));
    if (!codings.some(({ coding }) => coding.system === BARS.flagCategories)) {
      const shown = codings.map(({ coding }) => `${coding.system}|${coding.code}`).join(', ') || 'none';
      issues.push({ severity: 'warning', code: 'code-invalid', expression: codings[0]?.at ?? `${e.path}.category`, message: `Flag.category should be coded in ${BARS.flagCategories} (${[...flagCategories].join(', ')}); found ${shown}` });
    }
    for (const { coding, at } of codings) {
      if (coding.system === BARS.flagCategories && !flagCategories.has(coding.code ?? '')) {
        issues.push({ severity: 'warning', code: 'code-invalid', expression: `${at}.code`, message: `'${coding.code}' is not a code of ${BARS.flagCategories} (${[...flagCategories].join(', ')})` });
      }
    }
  }
  return issues;
}

/** BaRS needs the patient's consent to share for direct care: an active Consent of category DRC. */
function consentIssues(message: Message): Omit<IssueInit, 'code'>[] {
  const direct = entriesOfType<Consent>(message, 'Consent').filter((e) => e.resource.status === 'active' && e.resource.category?.some((c) => c.coding?.some((x) => x.system === BARS.consentCategories && x.code === 'DRC')));
  return direct.length ? [] : [{ expression: 'Bundle.entry', message: `A BaRS request needs an active Consent for direct care (category ${BARS.consentCategories}|DRC)` }];
}

/**
 * Profile validation: R4, the profiles the resources declare, and the profiles the
 * MessageDefinition names for the Bundle, the MessageHeader and the ServiceRequest when a resource
 * does not declare them itself; judged by the content policy (content-policy.ts).
 */
function profileVerdict(message: Message, md: MessageDefinition, validator: Validator): Verdict {
  const verdict = judgeIssues(validateAgainstProfiles(validator, message.bundle));
  const rules = focusRules(md);
  // the body is the sender's: meta.profile may be anything (an object, a string), and only a list declares a profile
  const declared = (r: { meta?: { profile?: unknown } }, url: string) => Array.isArray(r.meta?.profile) && r.meta.profile.includes(url);
  const bundleProfile = rules.get('Bundle')?.profiles[0];
  if (bundleProfile && !declared(message.bundle, bundleProfile)) {
    const own = validator.validate({ ...message.bundle, entry: [] }, { profiles: [bundleProfile] }).filter((i) => !/entry/.test(i.expression?.[0] ?? ''));
    verdict.refusals.push(...judgeIssues(own).refusals);
  }
  for (const type of ['MessageHeader', 'ServiceRequest']) {
    const profile = rules.get(type)?.profiles.find((p) => p.startsWith('https://fhir.nhs.uk/'));
    if (!profile || !validator.registry.getStructureDefinition(profile)) continue;
    for (const e of message.entries.filter((x) => x.resource.resourceType === type && !declared(x.resource, profile))) {
      // the R4 base issues of this resource were found with the Bundle; only the profile's own are new
      const own = validator.validate(e.resource, { profiles: [profile] }).filter((i) => isProfileIssue(i) && i.severity === 'error');
      const rebased = own.map(issueInit).map((i) => ({ ...i, expression: i.expression?.startsWith(type) ? e.path + i.expression.slice(type.length) : i.expression }));
      if (e.index === 0) verdict.refusals.push(...rebased);
      else verdict.warnings.push(...rebased.map((i) => ({ ...i, severity: 'warning' as const })));
    }
  }
  return { refusals: unique(verdict.refusals), warnings: unique(verdict.warnings) };
}

/** A resource checked against two profiles can break the same rule twice: report it once. */
function unique(issues: IssueInit[]): IssueInit[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.expression}|${i.message}`;
    return !seen.has(key) && seen.add(key) !== undefined;
  });
}

import { FhirError } from '../../errors.js';
import type { Bundle, CarePlan, CareTeam, Identifier, OperationOutcomeIssue, Reference, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { stepwiseCodeSystemUrl } from '../../fhir/canonical.js';
import { isValidNhsNumber } from '../../fhir/nhs-number.js';
import { parseSearch } from '../../fhir/search/parse.js';
import { isPathwayPlan } from '../../pathway/care/care-plan.js';
import { careTeamOf, isAccountableLead } from '../../pathway/care/care-team.js';
import { moveLead } from '../../pathway/care/open-plan.js';
import type { WriteOrigin, WritePipeline } from '../../pipeline/write-pipeline.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { MAPPED_FROM } from '../format.js';
import { mergeRecord } from './merge.js';

export interface IngestTarget {
  store: ResourceStore;
  pipeline: WritePipeline;
  origin: WriteOrigin;
}

/** The order records are applied in: what others refer to first. */
const ORDER = ['Patient', 'Practitioner', 'Organization', 'ServiceRequest', 'CarePlan', 'CareTeam', 'Task'];
const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
/** A discharge plan read from MHS106 (mappings/mhsds/maps/MHS106DischargePlanAgreement-to-fhir.map). */
const DISCHARGE_PLAN = { system: stepwiseCodeSystemUrl('mhsds-plan-kind'), code: 'discharge-plan' };

/** A record that cannot be routed: what it refers to is not known here. Reported; the others are applied. */
class NotRoutable extends Error {}

const info = (message: string, expression?: string): OperationOutcomeIssue => ({
  severity: 'information',
  code: 'informational',
  details: { text: message },
  diagnostics: message,
  ...(expression ? { expression: [expression] } : {}),
});

/**
 * Applies the records a partner format read (a `collection` referring by business identifier) in
 * one transaction, each through the write pipeline (validation, the pathway's policies, audit):
 * a new person or referral is created (a referral is then admitted at the front door by its
 * policy), a known one is updated with what the record says (a closure or rejection closes the
 * referral); a care contact is recorded as a contact Task (a did-not-attend starts the outreach
 * ladder, by its policy); a care coordinator becomes the accountable lead of the person's care
 * team; a care plan agreement is added to the care plan. Returns one issue per thing done, and an
 * error issue per record that could not be routed. A write the pipeline refuses refuses the whole
 * payload (nothing half-written).
 */
export async function applyRecords(target: IngestTarget, bundle: Bundle): Promise<OperationOutcomeIssue[]> {
  const entries = (bundle.entry ?? [])
    .map((e, i) => ({ resource: e.resource!, at: e.extension?.find((x) => x.url === MAPPED_FROM)?.valueString ?? `Bundle.entry[${i}]` }))
    .filter((e) => e.resource)
    // one global order (type, then first identifier), so that two payloads lock what they share in the same order
    .sort((a, b) => rank(a.resource) - rank(b.resource) || firstIdentifier(a.resource).localeCompare(firstIdentifier(b.resource)));
  return target.store.transaction(async (tx) => {
    const report: OperationOutcomeIssue[] = [];
    const scoped = { ...target, store: tx };
    for (const { resource, at } of entries) {
      try {
        report.push(...(await applyOne(scoped, resource, at)));
      } catch (err) {
        if (err instanceof FhirError) throw refusedAt(err, resource, at);
        if (!(err instanceof NotRoutable)) throw err;
        report.push({ severity: 'error', code: 'not-found', details: { text: err.message }, diagnostics: err.message, expression: [at] });
      }
    }
    return report;
  });
}

/** A write the pipeline refused refuses the payload; the answer says which record of the source it was. */
function refusedAt(err: FhirError, resource: Resource, at: string): FhirError {
  const message = `The ${resource.resourceType} mapped from ${at} was refused (above), so nothing of the payload was written`;
  return FhirError.fromIssues(err.code, [...err.issues, { severity: 'information', code: 'informational', diagnostics: message, details: { text: message }, expression: [at] }]);
}

function firstIdentifier(r: Resource): string {
  const id = (r as { identifier?: Identifier[] }).identifier?.[0];
  return id ? `${id.system}|${id.value}` : '';
}

function rank(r: Resource): number {
  const i = ORDER.indexOf(r.resourceType);
  return i === -1 ? ORDER.length : i;
}

async function applyOne(t: IngestTarget, record: Resource, at: string): Promise<OperationOutcomeIssue[]> {
  const made: OperationOutcomeIssue[] = [];
  const resolved = await resolveReferences(t, record, (r) => made.push(info(`Created ${r.resourceType}/${r.id}${describeIdentifier(r)}`, at)));
  if (resolved.resourceType === 'CareTeam') return [...made, ...(await applyCareCoordinator(t, resolved, at))];
  const withPerson = await withPersonOfReferral(t, resolved);
  await lockIdentifiers(t.store, withPerson);
  const existing = await findExisting(t.store, withPerson);
  const result = existing
    ? await t.pipeline.update(t.store, mergeRecord(existing, { ...withPerson, id: existing.id }), t.origin)
    : await t.pipeline.create(t.store, withPerson, t.origin);
  const written = result.resource;
  const done = [info(`${result.created ? 'Created' : result.changed ? 'Updated' : 'Unchanged:'} ${written.resourceType}/${written.id}${describeIdentifier(written)}`, at)];
  if (written.resourceType === 'Task') done.push(...(await ladderStarted(t.store, written as Task, at)));
  if (written.resourceType === 'ServiceRequest' && existing && (existing as ServiceRequest).status !== (written as ServiceRequest).status) {
    done.push(info(`ServiceRequest/${written.id} is now ${(written as ServiceRequest).status} (was ${(existing as ServiceRequest).status})`, at));
  }
  return [...made, ...done];
}

/** The business identifier a record was found or made by, for the report: ` (MHSDS ServiceRequestId SR0001)`. */
function describeIdentifier(r: Resource): string {
  const id = (r as { identifier?: Identifier[] }).identifier?.find((i) => i.system?.includes('/Id/mhsds-'));
  if (!id?.system) return '';
  const name = id.system.split('/Id/mhsds-')[1];
  return ` (MHSDS ${name} ${id.value})`;
}

/**
 * Every reference by business identifier becomes a literal one: to the stored resource with that
 * identifier (or, for a record Stepwise wrote out, whose id it is). A person or referral not known
 * here makes the record unroutable; a care professional not known is recorded as a Practitioner;
 * a team or organisation not known stays a reference by identifier.
 */
async function resolveReferences(t: IngestTarget, record: Resource, created: (r: Resource) => void): Promise<Resource> {
  const refs: Reference[] = [];
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') {
      const o = v as Reference;
      if (o.identifier && !o.reference && typeof o.type === 'string') refs.push(o);
      else Object.values(v).forEach(collect);
    }
  };
  const copy = structuredClone(record);
  collect(copy);
  for (const ref of refs) {
    const found = await findByIdentifier(t.store, ref.type!, ref.identifier!);
    if (found) ref.reference = `${found.resourceType}/${found.id}`;
    else if (ref.type === 'Practitioner') {
      await t.store.lock(identifierLock('Practitioner', ref.identifier!));
      const again = await findByIdentifier(t.store, 'Practitioner', ref.identifier!);
      if (again) {
        ref.reference = `Practitioner/${again.id}`;
        continue;
      }
      const made = await t.pipeline.create(t.store, { resourceType: 'Practitioner', identifier: [ref.identifier!] }, t.origin);
      ref.reference = `Practitioner/${made.resource.id}`;
      created(made.resource);
    } else if (ref.type === 'Patient' || ref.type === 'ServiceRequest') {
      const what = ref.type === 'Patient' ? 'person' : 'referral';
      throw new NotRoutable(`The ${what} ${ref.identifier!.value} (${ref.identifier!.system}) is not known here: the ${record.resourceType} about them is not recorded; send the ${what}'s own record first or in the same payload`);
    }
  }
  return copy;
}

/**
 * Two payloads about the same new person or referral, ingested at once, must not make it twice:
 * a transaction-scoped advisory lock on each business identifier, taken before looking it up (as
 * a conditional create locks its criteria).
 */
async function lockIdentifiers(store: ResourceStore, r: Resource): Promise<void> {
  const ids = ((r as { identifier?: Identifier[] }).identifier ?? []).filter((i) => i.value).sort((a, b) => identifierLock(r.resourceType, a).localeCompare(identifierLock(r.resourceType, b)));
  for (const id of ids) await store.lock(identifierLock(r.resourceType, id));
}

const identifierLock = (type: string, id: Identifier): string => `ingest:${type}:${id.system ?? ''}|${id.value}`;

async function findByIdentifier(store: ResourceStore, type: string, identifier: Identifier): Promise<Resource | undefined> {
  if (!identifier.value) return undefined;
  const token = identifier.system ? `${identifier.system}|${identifier.value}` : identifier.value;
  const [found] = await store.matches(parseSearch(type, [['identifier', token], ['_count', '1']]));
  if (found) return found;
  // a record Stepwise wrote out names the resource by its id (mhsds/write.ts identifyByServerId)
  return /^[A-Za-z0-9\-.]{1,64}$/.test(identifier.value) ? store.readOrUndefined(type, identifier.value) : undefined;
}

/** A contact or discharge plan names its referral only: its person is the referral's. */
async function withPersonOfReferral(t: IngestTarget, r: Resource): Promise<Resource> {
  if (r.resourceType !== 'Task' && r.resourceType !== 'CarePlan') return r;
  const person = r.resourceType === 'Task' ? r.for : r.subject;
  const referral = referralOf(r);
  if (person?.reference || !referral?.startsWith('ServiceRequest/')) return r;
  const sr = (await t.store.readOrUndefined('ServiceRequest', referral.split('/')[1])) as ServiceRequest | undefined;
  if (!sr?.subject) return r;
  const subject = { reference: sr.subject.reference, type: 'Patient' } as Reference;
  return r.resourceType === 'Task' ? { ...r, for: subject } : ({ ...r, subject } as CarePlan);
}

/** The referral a contact (basedOn) or a discharge plan (supportingInfo) is about, as a literal reference. */
function referralOf(r: Task | CarePlan): string | undefined {
  const refs = r.resourceType === 'Task' ? r.basedOn : r.supportingInfo;
  return refs?.map((x) => x.reference).find((x) => x?.startsWith('ServiceRequest/'));
}

/** The stored resource a record is about: by its business identifier, or a discharge plan by its person and referral. */
async function findExisting(store: ResourceStore, r: Resource): Promise<Resource | undefined> {
  if (r.resourceType === 'CarePlan' && r.category?.some((c) => c.coding?.some((x) => x.code === DISCHARGE_PLAN.code))) {
    const referral = referralOf(r);
    if (!referral || !r.subject?.reference) return undefined;
    const plans = (await store.search(parseSearch('CarePlan', [['subject', r.subject.reference], ['category', `${DISCHARGE_PLAN.system}|${DISCHARGE_PLAN.code}`], ['_count', '50']]))).matches;
    return plans.find((p) => referralOf(p as CarePlan) === referral);
  }
  for (const identifier of (r as { identifier?: Identifier[] }).identifier ?? []) {
    // a person is matched on an NHS number only when it passes Modulus 11 (as messaging matches)
    if (identifier.system === NHS_NUMBER && !isValidNhsNumber(identifier.value ?? '')) continue;
    const found = await findByIdentifier(store, r.resourceType, identifier);
    if (found) return found;
  }
  return undefined;
}

/**
 * A care coordinator assignment (MHS006): the coordinator becomes the one accountable lead of the
 * person's active care plan's team (pathway/care moveLead, the previous lead stays a member). An
 * ended assignment, or a person with no active plan, is recorded as its own CareTeam.
 */
async function applyCareCoordinator(t: IngestTarget, record: CareTeam, at: string): Promise<OperationOutcomeIssue[]> {
  const coordinator = record.participant?.find(isAccountableLead);
  const patientId = record.subject?.reference?.split('/')[1];
  const member = coordinator?.member?.reference;
  const plan = patientId ? await findPathwayPlan(t.store, patientId) : undefined;
  const team = plan ? await careTeamOf(t.store, plan) : undefined;
  if (team && member && !coordinator?.period?.end) {
    const moved = await moveLead(t.pipeline.context(t.store, t.origin), team, { reference: member });
    const changed = moved.meta?.versionId !== team.meta?.versionId;
    return [info(`CareTeam/${team.id} of CarePlan/${plan!.id}: ${changed ? 'the accountable lead is now' : 'the accountable lead already is'} ${member}${describeIdentifier(await t.store.read('Practitioner', member.split('/')[1]))}`, at)];
  }
  const teams = member && patientId ? (await t.store.search(parseSearch('CareTeam', [['subject', `Patient/${patientId}`], ['participant', member], ['_count', '50']]))).matches : [];
  const existing = (teams as CareTeam[]).find((team) => team.participant?.some((p) => p.member?.reference === member && p.period?.start === coordinator?.period?.start));
  const result = existing ? await t.pipeline.update(t.store, mergeRecord(existing, { ...record, id: existing.id }), t.origin) : await t.pipeline.create(t.store, record, t.origin);
  const why = !member ? 'it names no care professional' : coordinator?.period?.end ? 'the assignment has ended' : 'the person has no active care plan here';
  return [info(`${result.created ? 'Created' : 'Updated'} CareTeam/${result.resource.id}: the care coordinator assignment is recorded as it is (${why})`, at)];
}

/** The person's active care plan on the pathway (not a plan a partner sent, which has no accountable lead here). */
async function findPathwayPlan(store: ResourceStore, patientId: string): Promise<CarePlan | undefined> {
  // search, not matches: matches gives at most two, unsorted
  const plans = (await store.search(parseSearch('CarePlan', [['subject', `Patient/${patientId}`], ['status', 'active'], ['_sort', '-_lastUpdated'], ['_count', '50']]))).matches;
  return plans.find((p) => isPathwayPlan(p) && (p as CarePlan).careTeam?.length) as CarePlan | undefined;
}

/** A missed contact starts the outreach ladder (its policy): the report names the first step. */
async function ladderStarted(store: ResourceStore, task: Task, at: string): Promise<OperationOutcomeIssue[]> {
  const steps = (await store.search(parseSearch('Task', [['part-of', `Task/${task.id}`], ['_count', '5']]))).matches as Task[];
  return steps.map((s) => info(`Task/${task.id} is a missed contact: the outreach ladder started with Task/${s.id} (${s.code?.coding?.[0]?.display ?? s.code?.coding?.[0]?.code}), due ${s.restriction?.period?.end}`, at));
}


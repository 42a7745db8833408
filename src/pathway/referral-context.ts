import { toTypedValue, type TypedValue } from '@medplum/core';
import type { Bundle, BundleEntry, Patient, Reference, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import { parseLocalReference } from '../fhir/referenced-resources.js';
import type { ResourceStore } from '../store/resource-store.js';

/**
 * What the minimum dataset and the threshold rules are evaluated over: a referral (ServiceRequest)
 * and what it carries. FHIRPath sees it as a `collection` Bundle (the ServiceRequest first, then
 * the Patient, the requester and the rest) with the variables %referral, %patient, %requester and
 * %ageAtReferral (whole years at ServiceRequest.authoredOn, empty when either date is missing).
 */
export interface ReferralContext {
  referral: ServiceRequest;
  patient?: Patient;
  requester?: Resource;
  /** Flags, RiskAssessments, Consents, MedicationStatements, Conditions, RelatedPersons, … */
  related: Resource[];
}

/** Resource types about the patient that a referral carries, and their search parameter to the patient. */
const ABOUT_THE_PATIENT: [string, string][] = [
  ['Flag', 'patient'],
  ['RiskAssessment', 'patient'],
  ['Consent', 'patient'],
  ['MedicationStatement', 'patient'],
  ['Condition', 'patient'],
  ['RelatedPerson', 'patient'],
];

export function contextBundle(ctx: ReferralContext): Bundle {
  const entries: BundleEntry[] = [ctx.referral, ctx.patient, ctx.requester, ...ctx.related]
    .filter((r): r is Resource => r !== undefined)
    .map((resource) => ({ ...(resource.id ? { fullUrl: `${resource.resourceType}/${resource.id}` } : {}), resource }));
  return { resourceType: 'Bundle', type: 'collection', entry: entries };
}

const EMPTY: TypedValue = { type: 'undefined', value: undefined };

export function contextVariables(ctx: ReferralContext): Record<string, TypedValue> {
  const age = ageInYears(ctx.patient?.birthDate, ctx.referral.authoredOn);
  return {
    '%referral': toTypedValue(ctx.referral),
    '%patient': ctx.patient ? toTypedValue(ctx.patient) : EMPTY,
    '%requester': ctx.requester ? toTypedValue(ctx.requester) : EMPTY,
    '%ageAtReferral': age === undefined ? EMPTY : { type: 'integer', value: age },
  };
}

/** Whole years between a birth date and the date part of an instant, or undefined. */
export function ageInYears(birthDate: string | undefined, at: string | undefined): number | undefined {
  const b = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate ?? '');
  const a = /^(\d{4})-(\d{2})-(\d{2})/.exec(at ?? '');
  if (!b || !a) return undefined;
  const [by, bm, bd] = b.slice(1).map(Number);
  const [ay, am, ad] = a.slice(1).map(Number);
  return ay - by - (am < bm || (am === bm && ad < bd) ? 1 : 0);
}

/** Where a referral's context is read from: the store, or a message's resources over the store. */
export interface ReferralSource {
  read(type: string, id: string): Promise<Resource | undefined>;
  /** Current resources of each `[type, param]` whose `param` refers to Patient/`patientId`. */
  aboutPatient(patientId: string, sources: [string, string][]): Promise<Resource[]>;
}

export function storeSource(store: ResourceStore): ReferralSource {
  return {
    read: (type, id) => store.readOrUndefined(type, id),
    aboutPatient: (patientId, sources) => store.readReferring(`Patient/${patientId}`, sources),
  };
}

/**
 * Loads a stored referral and what it carries: its subject, its requester, its supportingInfo,
 * and the Flags, RiskAssessments, Consents, MedicationStatements, Conditions and RelatedPersons of
 * the patient (one query).
 */
export async function loadReferralContext(store: ResourceStore, serviceRequestId: string): Promise<ReferralContext> {
  const referral = (await store.read('ServiceRequest', serviceRequestId)) as ServiceRequest;
  return referralContext(referral, storeSource(store));
}

/** The context of a referral, reading what it refers to from `source`. */
export async function referralContext(referral: ServiceRequest, source: ReferralSource): Promise<ReferralContext> {
  const patientId = localId(referral.subject, 'Patient');
  const related: Resource[] = [];
  let patient: Patient | undefined;
  if (patientId) {
    patient = (await source.read('Patient', patientId)) as Patient | undefined;
    if (patient) related.push(...(await source.aboutPatient(patientId, ABOUT_THE_PATIENT)).filter((r) => (r as { status?: string }).status !== 'entered-in-error'));
  }
  const requester = await readReference(source, referral.requester);
  const seen = new Set(related.map(key));
  for (const ref of referral.supportingInfo ?? []) {
    const r = await readReference(source, ref);
    if (r && !seen.has(key(r)) && key(r) !== (patient && key(patient))) {
      seen.add(key(r));
      related.push(r);
    }
  }
  return { referral, patient, requester, related };
}

/**
 * The context of a referral given as a Bundle (a message or a collection): the first
 * ServiceRequest, its subject and requester resolved by fullUrl or `Type/id`, everything else
 * carried along.
 */
export function contextFromBundle(bundle: Bundle): ReferralContext {
  const resources = (bundle.entry ?? []).filter((e) => e.resource).map((e) => ({ fullUrl: e.fullUrl, resource: e.resource! }));
  const sr = resources.find((e) => e.resource.resourceType === 'ServiceRequest');
  if (!sr) throw new FhirError(FhirErrorCode.UNPROCESSABLE, { message: 'The Bundle carries no ServiceRequest (the referral)', expression: 'Bundle.entry' });
  const referral = sr.resource as ServiceRequest;
  const resolve = (ref: Reference | undefined): Resource | undefined => {
    const r = ref?.reference;
    if (!r) return undefined;
    return resources.find((e) => e.fullUrl === r || (e.resource.id && `${e.resource.resourceType}/${e.resource.id}` === r) || (e.fullUrl && e.fullUrl.endsWith(`/${r}`)))?.resource;
  };
  const patient = resolve(referral.subject);
  const requester = resolve(referral.requester);
  const related = resources
    .map((e) => e.resource)
    .filter((r) => r !== referral && r !== patient && r !== requester && r.resourceType !== 'MessageHeader');
  return { referral, patient: patient?.resourceType === 'Patient' ? (patient as Patient) : undefined, requester, related };
}

/** The id of a literal relative reference `Type/id`, or undefined. */
export function localId(ref: Reference | undefined, type?: string): string | undefined {
  const local = parseLocalReference(ref);
  if (!local || (type && local.type !== type)) return undefined;
  return local.id;
}

async function readReference(source: ReferralSource, ref: Reference | undefined): Promise<Resource | undefined> {
  const local = parseLocalReference(ref);
  return local && source.read(local.type, local.id);
}

function key(r: Resource): string {
  return `${r.resourceType}/${r.id}`;
}

import type { Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { parseSearch } from '../../fhir/search/parse.js';
import { PATHWAY, TaskCode } from '../../pathway/codes.js';
import { admitReferral, findTriageTask, rescreenReferral } from '../../pathway/front-door.js';
import { checkRedirect } from '../../pathway/redirect-check.js';
import { localId } from '../../pathway/referral-context.js';
import { stampTriageCompletion } from '../../pathway/triage-completion.js';
import type { ResourceStore } from '../../store/resource-store.js';

/**
 * Pathway rules on the generic write path, for update (PUT) and patch. Call it with the resource
 * about to be stored, after validation and before `store.update`, inside the same transaction
 * when there is one; store what it returns:
 *
 *   resource = await beforePathwayWrite(store, resource, now);
 *
 * For a Task it refuses a redirect without rationale, signposting and escalation routes (422) and
 * stamps the time to triage when a triage Task completes. Anything else passes unchanged.
 */
export async function beforePathwayWrite<T extends Resource>(store: ResourceStore, next: T, now: Date): Promise<T> {
  if (next.resourceType !== 'Task') return next;
  const task = next as Task;
  checkRedirect(task);
  const previous = task.id ? ((await store.readOrUndefined('Task', task.id)) as Task | undefined) : undefined;
  return stampTriageCompletion(previous, task, now) as T;
}

/**
 * Whether a write can concern the pathway at all, so that every other write stays a single
 * statement: Tasks, referrals, and what the minimum dataset reads about a person (a Patient just
 * created with a server id cannot yet have a referral waiting).
 */
export function pathwayHooksApply(resourceType: string, createdWithNewId: boolean): boolean {
  if (resourceType === 'Task' || resourceType === 'ServiceRequest') return true;
  if (resourceType === 'Patient') return !createdWithNewId;
  return resourceType in ABOUT_THE_PATIENT;
}

/** Resources the minimum dataset and the rules read, by the search parameter naming their patient. */
const ABOUT_THE_PATIENT: Record<string, string> = {
  Patient: '_id',
  Flag: 'patient',
  RiskAssessment: 'patient',
  Consent: 'patient',
  MedicationStatement: 'patient',
  Condition: 'patient',
  RelatedPerson: 'patient',
};

/**
 * After a create, update or patch (in the same transaction, after `store.update`/`store.create`):
 * a new active referral is admitted at the front door; when the triage team fills a gap (a Patient, Consent, RiskAssessment, MedicationStatement, Flag,
 * Condition or RelatedPerson of the person, or the ServiceRequest itself), the referrals of that
 * person waiting at the front door are screened again and resume when complete.
 *
 *   await afterPathwayWrite(store, result.resource, now);
 */
export async function afterPathwayWrite(store: ResourceStore, written: Resource, now: Date): Promise<void> {
  const clock = { now: () => now };
  if (written.resourceType === 'ServiceRequest') {
    await admitOrRescreen(store, written as ServiceRequest, clock);
    return;
  }
  if (!(written.resourceType in ABOUT_THE_PATIENT)) return;
  const patientId = written.resourceType === 'Patient' ? written.id : patientOf(written);
  if (!patientId) return;
  const waiting = await store.search(
    parseSearch('Task', [['patient', `Patient/${patientId}`], ['code', `${PATHWAY.taskCode}|${TaskCode.triage}`], ['status', 'requested,on-hold'], ['_count', '50']]),
  );
  for (const task of waiting.matches as Task[]) {
    const sr = localId(task.focus, 'ServiceRequest');
    if (sr) await rescreenReferral(store, sr, { clock });
  }
}

/**
 * Every route in gets the same front door: a referral created or activated over REST (a POST, a
 * PUT, a transaction entry) is admitted as a message's is, with its one triage Task; a referral
 * still waiting at the front door is screened again when it changes.
 */
async function admitOrRescreen(store: ResourceStore, referral: ServiceRequest, clock: { now(): Date }): Promise<void> {
  const triage = await findTriageTask(store, referral.id!);
  if (!triage) {
    if (referral.status === 'active') await admitReferral(store, { serviceRequestId: referral.id! }, { clock });
    return;
  }
  if (triage.status === 'requested' || triage.status === 'on-hold') await rescreenReferral(store, referral.id!, { clock });
}

function patientOf(r: Resource): string | undefined {
  const x = r as { patient?: { reference?: string }; subject?: { reference?: string } };
  return localId(x.patient, 'Patient') ?? localId(x.subject, 'Patient');
}

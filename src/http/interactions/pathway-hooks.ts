import type { Resource, Task } from '@medplum/fhirtypes';
import { checkRedirect } from '../../pathway/redirect-check.js';
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

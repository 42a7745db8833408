import type { Extension, Organization, Reference, Task } from '@medplum/fhirtypes';
import { PATHWAY } from '../codes.js';

/**
 * Where a pathway Task's team is kept. Task.owner is the team (an Organization) while the Task
 * waits in the team's queue; a person who claims it becomes Task.owner, and the team stays in the
 * `task-team` extension, which every pathway Task carries from creation. So the per-team queue
 * searches `team`, the per-person queue searches `owner`, and releasing a Task gives it back to
 * the team the extension names.
 */
export function teamExtension(team: Reference<Organization>): Extension {
  return { url: PATHWAY.taskTeam, valueReference: team };
}

/** The team a Task belongs to, if it names one. */
export function teamOf(task: Task): Reference<Organization> | undefined {
  return task.extension?.find((e) => e.url === PATHWAY.taskTeam)?.valueReference as Reference<Organization> | undefined;
}

/** The Task's extensions with its team set to `team` (any other extension kept as it was). */
export function withTeam(extensions: Extension[] | undefined, team: Reference<Organization>): Extension[] {
  return [...(extensions ?? []).filter((e) => e.url !== PATHWAY.taskTeam), teamExtension(team)];
}

const PERSON_TYPES = ['Practitioner', 'PractitionerRole'];

/** Whether a reference is to a person who can hold work: a Practitioner or PractitionerRole. */
export function isPersonReference(ref: Reference | undefined): boolean {
  const type = ref?.reference?.split('/')[0] ?? ref?.type;
  return !!type && PERSON_TYPES.includes(type) && !!ref?.reference;
}

/** Who holds the Task: its owner when that is a person, else nobody (it waits in its team's queue). */
export function holderOf(task: Task): Reference | undefined {
  return isPersonReference(task.owner) ? task.owner : undefined;
}

/** "Practitioner/abc (Dr Asha Rao)": how an answer names a holder. */
export function describeHolder(ref: Reference): string {
  return ref.display ? `${ref.reference} (${ref.display})` : ref.reference!;
}

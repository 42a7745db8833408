import type { CareTeam, CodeableConcept, Flag, Provenance, ProvenanceAgent, Resource, Task } from '@medplum/fhirtypes';
import type { WriteOrigin } from '../pipeline/write-record.js';
import { isPathwayPlan } from './care/care-plan.js';
import { CARE } from './care/codes.js';
import { riskDomainOf } from './risk/risk-flag.js';
import { isPathwayTask } from './tasks/transitions.js';
import type { PolicyContext, WritePolicy } from './write-policies.js';

/**
 * The pathway's own resources, whose every change needs its Provenance (issue 13): its Tasks, care
 * plans, care teams, risk flags, and referrals. A GP's care plan or a scene-safety flag that a
 * referral carries is information, not ours to account for.
 */
export function isPathwayResource(r: Resource): boolean {
  switch (r.resourceType) {
    case 'Task':
      return isPathwayTask(r);
    case 'CarePlan':
      return isPathwayPlan(r);
    case 'CareTeam':
      return (r as CareTeam).participant?.some((p) => p.role?.some((role) => role.coding?.some((c) => c.system === CARE.careTeamRole))) ?? false;
    case 'Flag':
      return riskDomainOf(r as Flag) !== undefined;
    case 'ServiceRequest':
      return true;
    default:
      return false;
  }
}

const DATA_OPERATION = 'http://terminology.hl7.org/CodeSystem/v3-DataOperation';
const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';

/**
 * A Provenance for every write to a pathway resource (http://hl7.org/fhir/R4/provenance.html),
 * in the write's own transaction: the exact version written (target), who (the requestor of the
 * write: a user, a client, the scheduler), the activity (v3-DataOperation CREATE, UPDATE or
 * DELETE, and the pathway operation when there was one: $claim, $accept…) and the reason the
 * write carries (Task.statusReason). It is stored directly, not through the policies: a
 * Provenance has no Provenance, and writes no AuditEvent (the write it records has one).
 *
 * Only writes with an origin get one: the pipeline's (REST, Bundle entries, Task operations, the
 * scheduler) and what the policies write in consequence. A FHIR message is its own provenance: its
 * log, its AuditEvent and the front door's decision Provenance (messaging skips this policy, so
 * that a message stays one statement).
 */
export const PROVENANCE_POLICY: WritePolicy = {
  name: 'every write to a pathway resource leaves a Provenance: who, what they did, and why',
  types: ['Task', 'CarePlan', 'CareTeam', 'Flag', 'ServiceRequest'],
  applies: isPathwayResource,
  after: async (written, ctx) => {
    if (!ctx.origin) return;
    await ctx.store.create(provenanceOf(written, written.meta?.versionId === '1' ? 'CREATE' : 'UPDATE', ctx.origin, ctx.now));
  },
  beforeDelete: async (current, ctx) => {
    if (!ctx.origin || !isPathwayResource(current)) return;
    // the deletion is the version after the current one
    const deleted = { ...current, meta: { ...current.meta, versionId: String(Number(current.meta?.versionId ?? '0') + 1) } };
    await ctx.store.create(provenanceOf(deleted, 'DELETE', ctx.origin, ctx.now));
  },
};

function provenanceOf(r: Resource, operation: 'CREATE' | 'UPDATE' | 'DELETE', origin: WriteOrigin, now: Date): Provenance {
  const reason = reasonOf(r);
  return {
    resourceType: 'Provenance',
    target: [{ reference: `${r.resourceType}/${r.id}/_history/${r.meta?.versionId}` }],
    recorded: now.toISOString(),
    activity: {
      coding: [{ system: DATA_OPERATION, code: operation }],
      ...(origin.activity ? { text: `$${origin.activity}` } : {}),
    },
    ...(reason ? { reason: [reason] } : {}),
    agent: [agentOf(origin)],
  };
}

/** Who wrote: the requestor as the audit names it (an identifier and a display), on behalf of their organisation. */
function agentOf(origin: WriteOrigin): ProvenanceAgent {
  const r = origin.requestor ?? { name: `${origin.route} client` };
  const organisation = r.alongside?.find((a) => a.who?.identifier?.system?.includes('ods-organization-code'))?.who;
  return {
    type: { coding: [{ system: PARTICIPANT_TYPE, code: 'author', display: 'Author' }] },
    who: { ...(r.identifier?.value ? { identifier: r.identifier } : {}), display: r.name ?? r.identifier?.value ?? `${origin.route} client` },
    ...(organisation ? { onBehalfOf: { identifier: organisation.identifier, display: organisation.display } } : {}),
  };
}

/** Why, when the write says: a Task's statusReason (a rejection's reason, a cancellation's). */
function reasonOf(r: Resource): CodeableConcept | undefined {
  return r.resourceType === 'Task' ? (r as Task).statusReason : undefined;
}

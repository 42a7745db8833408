import type { CarePlan, CareTeam, Flag, Resource, Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import { expect } from 'vitest';
import { FhirError } from '../../src/errors.js';
import { CARE } from '../../src/pathway/care/codes.js';
import { leadParticipant } from '../../src/pathway/care/care-team.js';
import { PATHWAY, TaskCode } from '../../src/pathway/codes.js';
import { writeWithPolicies, type WritePolicy } from '../../src/pathway/write-policies.js';
import { PATHWAY_POLICIES } from '../../src/pathway/write-policies.js';
import type { ResourceStore, WriteResult } from '../../src/store/resource-store.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { ESCALATION_DECISION } from '../../src/pathway/step-up/decision.js';
import { sharedLanguageInput, SharedLanguage } from '../../src/pathway/step-up/shared-language.js';

/** Writes as every route does: through the pathway's policies, in one transaction. */
export async function write<T extends Resource>(store: ResourceStore, resource: T, policies: readonly WritePolicy[] = PATHWAY_POLICIES): Promise<T & { id: string }> {
  const result: WriteResult = resource.id
    ? await writeWithPolicies(store, resource, false, (s, r) => s.update(r), policies)
    : await writeWithPolicies(store, resource, true, async (s, r) => ({ resource: await s.create(r), created: true, changed: true }), policies);
  return result.resource as T & { id: string };
}

/** The FhirError a write is refused with. */
export async function refusal(p: Promise<unknown>): Promise<FhirError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FhirError) return e;
    throw e;
  }
  throw new Error('expected the write to be refused');
}

export function expectIssues(err: FhirError, status: number, expressions: string[]): void {
  expect(err.status).toBe(status);
  expect(err.issues.map((i) => i.expression?.[0])).toEqual(expressions);
}

export const CRISIS_LEAD = { reference: 'PractitionerRole/crisis-team-lead' };
export const CMHT_NORTH = { reference: 'Organization/cmht-north' };
export const PATIENT = { reference: 'Patient/pat-1' };

export function careTeam(id: string, leads: { reference: string }[], extra: Partial<CareTeam> = {}): CareTeam {
  return { resourceType: 'CareTeam', id, status: 'active', subject: PATIENT, participant: leads.map((l) => leadParticipant(l, '2026-03-01T09:00:00Z')), ...extra };
}

export function carePlan(id: string, teamId: string, level = 'routine-support', extra: Partial<CarePlan> = {}): CarePlan {
  return {
    resourceType: 'CarePlan',
    id,
    status: 'active',
    intent: 'plan',
    category: [{ coding: [{ system: PATHWAY.levelOfSupport, code: level }] }],
    subject: PATIENT,
    period: { start: '2026-03-01T09:00:00Z' },
    careTeam: [{ reference: `CareTeam/${teamId}` }],
    ...extra,
  };
}

/** A person with an active plan led by `lead`. */
export async function personWithPlan(store: ResourceStore, lead = CRISIS_LEAD, level = 'crisis-response'): Promise<{ plan: CarePlan; team: CareTeam }> {
  await store.update({ resourceType: 'Patient', id: 'pat-1', name: [{ family: 'Smith', given: ['Richard'] }] });
  const team = await write(store, careTeam('team-1', [lead]));
  const plan = await write(store, carePlan('plan-1', 'team-1', level));
  return { plan, team };
}

export async function leadsOf(store: ResourceStore, teamId = 'team-1'): Promise<string[]> {
  const team = (await store.read('CareTeam', teamId)) as CareTeam;
  return (team.participant ?? []).filter((p) => p.role?.some((r) => r.coding?.some((c) => c.system === CARE.careTeamRole && c.code === 'accountable-lead'))).map((p) => p.member!.reference!);
}

export function highRiskFlag(id: string, domain = 'relapse-signature', extra: Partial<Flag> = {}): Flag {
  return {
    resourceType: 'Flag',
    id,
    extension: [{ url: CARE.flagPriority, valueCodeableConcept: { coding: [{ system: CARE.flagPriorityCode, code: 'PH' }] } }],
    status: 'active',
    category: [{ coding: [{ system: CARE.riskFlagCategory, code: domain }] }],
    code: { text: 'Reduced sleep and increased paranoia preceded the last two relapses' },
    subject: PATIENT,
    period: { start: '2026-03-02T08:00:00Z' },
    ...extra,
  };
}

export async function escalationsOf(store: ResourceStore, patient = 'Patient/pat-1'): Promise<Task[]> {
  return (await store.search(parseSearch('Task', [['patient', patient], ['code', `${PATHWAY.taskCode}|${TaskCode.escalation}`], ['_count', '100']]))).matches as Task[];
}

export const FOUR_PARTS: TaskInput[] = [
  sharedLanguageInput(SharedLanguage.whatHasChanged, 'Sleeping 3 hours a night for a week; more suspicious of neighbours'),
  sharedLanguageInput(SharedLanguage.currentRisks, 'Stopped olanzapine 5 days ago; relapse signature present'),
  sharedLanguageInput(SharedLanguage.protectiveFactors, 'Sister visits daily; engaged with care coordinator'),
  sharedLanguageInput(SharedLanguage.alreadyTried, 'Extra phone contact twice this week; GP medication review'),
];

export function param(code: string, value: Partial<TaskOutput>, system: string = PATHWAY.taskParameterType): TaskOutput {
  return { type: { coding: [{ system, code }] }, ...value } as TaskOutput;
}

export const ACCEPT: TaskOutput[] = [
  param('escalation-decision', { valueCodeableConcept: { coding: [{ system: ESCALATION_DECISION, code: 'accept' }] } }),
  param('action-plan', { valueString: 'Contact daily; urgent clinical review; medication liaison with GP' }),
  param('mdt-review-date', { valueDate: '2026-03-05' }),
  param('out-of-hours-contingency', { valueString: 'Crisis line briefed; home treatment team on call' }),
];

export const DECLINE: TaskOutput[] = [
  param('escalation-decision', { valueCodeableConcept: { coding: [{ system: ESCALATION_DECISION, code: 'decline' }] } }),
  param('decline-rationale', { valueString: 'Change is within the relapse plan; weekly contact continues' }),
];

export function escalation(id: string, inputs: TaskInput[] = FOUR_PARTS, extra: Partial<Task> = {}): Task {
  return {
    resourceType: 'Task',
    id,
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: PATHWAY.taskCode, code: TaskCode.escalation }] },
    for: PATIENT,
    requester: { reference: 'PractitionerRole/cmht-north-care-coordinator' },
    owner: { reference: 'PractitionerRole/consultant-psychiatrist' },
    authoredOn: '2026-03-02T09:00:00Z',
    input: inputs,
    ...extra,
  };
}

export function handover(id: string, extra: Partial<Task> = {}, inputs?: TaskInput[]): Task {
  return {
    resourceType: 'Task',
    id,
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [{ system: PATHWAY.taskCode, code: TaskCode.handover }] },
    focus: { reference: 'CarePlan/plan-1' },
    for: PATIENT,
    authoredOn: '2026-03-02T09:00:00Z',
    requester: CRISIS_LEAD,
    owner: CMHT_NORTH,
    input: inputs ?? [...TRANSITION_PLAN, ...CHECKLIST],
    ...extra,
  };
}

export const TRANSITION_PLAN: TaskInput[] = [
  { type: { coding: [{ system: PATHWAY.taskParameterType, code: 'medication-actions' }] }, valueString: 'Continue olanzapine 10mg; depot due 9 March' },
  { type: { coding: [{ system: PATHWAY.taskParameterType, code: 'safety-measures' }] }, valueString: 'Crisis card given; sister holds medication' },
  { type: { coding: [{ system: PATHWAY.taskParameterType, code: 'contact-frequency' }] }, valueTiming: { repeat: { frequency: 3, period: 1, periodUnit: 'wk' } } },
  { type: { coding: [{ system: PATHWAY.taskParameterType, code: 'red-flag-thresholds' }] }, valueString: 'Sleep under 4 hours two nights running, or stopping medication: same-day escalation' },
];

export const CHECKLIST: TaskInput[] = [
  { type: { coding: [{ system: CARE.handoverChecklist, code: 'appointments-booked' }] }, valueBoolean: true },
  { type: { coding: [{ system: CARE.handoverChecklist, code: 'support-hours-adjusted' }] }, valueBoolean: true },
  { type: { coding: [{ system: CARE.handoverChecklist, code: 'risk-plan-updated' }] }, valueBoolean: true },
  { type: { coding: [{ system: CARE.handoverChecklist, code: 'carer-contact-agreed' }] }, valueString: 'Not appropriate: the person asked that their family is not contacted' },
];

import type { Extension, Flag, Patient, Provenance, RiskAssessment, ServiceRequest, Task } from '@medplum/fhirtypes';
import { parseSearch } from '../fhir/search/parse.js';
import { PATHWAY } from '../pathway/codes.js';
import { localId } from '../pathway/referral-context.js';
import type { Permission } from '../security/scopes.js';
import type { ResourceStore } from '../store/resource-store.js';
import { nameOf } from './context.js';

/** One decision of the triage rules, as its Provenance records it (front-door.ts decisionExtension). */
export interface RuleDecision {
  recorded?: string;
  rule?: string;
  ruleSet?: string;
  ruleSetVersion?: string;
  outcome?: string;
  priority?: string;
  rationale?: string;
  missing: string[];
}

/** One version of the triage Task, with what was done and by whom (its Provenance, when visible). */
export interface TaskVersion {
  versionId: number;
  at: Date;
  status?: string;
  holder?: string;
  by?: string;
  activity?: string;
}

export interface ReferralView {
  task: Task;
  referral?: ServiceRequest;
  patient?: Patient;
  flags: Flag[];
  risks: RiskAssessment[];
  decisions: RuleDecision[];
  versions: TaskVersion[];
  /** The nurses' notes on the Task (a decision's rationale is one). */
  notes: { text: string; time?: string }[];
  /** The types the user's scopes do not let the page read for them: left out, and said so. */
  hidden: string[];
}

/**
 * Everything the referral page shows, read through the signed-in user's store: what they could
 * not read over the FHIR API is not here (a Provenance about a Task is visible only to those who
 * see everything, so a restricted user sees the rationale on the Task, not the rule's record).
 */
export async function loadReferral(store: ResourceStore, taskId: string, may: (type: string, permission: Permission) => boolean): Promise<ReferralView> {
  const task = (await store.read('Task', taskId)) as Task;
  const hidden = ['ServiceRequest:r', 'Patient:r', 'Flag:s', 'RiskAssessment:s', 'Provenance:s', 'Practitioner:r', 'Organization:r'].filter((x) => !may(...(x.split(':') as [string, Permission]))).map((x) => x.split(':')[0]);
  const shown = (type: string) => !hidden.includes(type);
  const referralId = localId(task.focus, 'ServiceRequest');
  const referral = referralId && shown('ServiceRequest') ? ((await store.readOrUndefined('ServiceRequest', referralId)) as ServiceRequest | undefined) : undefined;
  const patientId = localId(task.for, 'Patient') ?? localId(referral?.subject, 'Patient');
  const [patient, flags, risks, provenance, history] = await Promise.all([
    patientId && shown('Patient') ? (store.readOrUndefined('Patient', patientId) as Promise<Patient | undefined>) : undefined,
    patientId && shown('Flag') ? searchAll<Flag>(store, 'Flag', [['patient', `Patient/${patientId}`], ['status', 'active']]) : [],
    patientId && shown('RiskAssessment') ? searchAll<RiskAssessment>(store, 'RiskAssessment', [['patient', `Patient/${patientId}`]]) : [],
    shown('Provenance') ? searchAll<Provenance>(store, 'Provenance', [['target', `Task/${task.id}`]]) : [],
    store.history({ type: 'Task', id: task.id, count: 100 }),
  ]);
  const byVersion = new Map(provenance.flatMap((p) => (p.target ?? []).map((t) => [t.reference ?? '', p] as const)));
  const versions = history.entries
    .filter((e) => e.resource)
    .map((e) => {
      const version = e.resource as Task;
      const made = byVersion.get(`Task/${task.id}/_history/${e.versionId}`);
      return {
        versionId: e.versionId,
        at: e.lastUpdated,
        status: version.status,
        holder: version.owner?.display ?? version.owner?.reference,
        by: made?.agent?.[0]?.who?.display ?? made?.agent?.[0]?.who?.identifier?.value ?? made?.agent?.[0]?.who?.reference,
        activity: made?.activity?.text ?? made?.activity?.coding?.[0]?.code,
      };
    });
  // who held each version, by name (people and teams are directories: any sign-in reads them)
  const holders = new Map<string, string>();
  for (const ref of new Set(versions.map((v) => v.holder).filter((r): r is string => !!r))) {
    const [type, id] = ref.split('/');
    const held = (type === 'Practitioner' || type === 'Organization') && shown(type) ? await store.readOrUndefined(type, id) : undefined;
    holders.set(ref, nameOf(held) ?? ref);
  }
  for (const v of versions) if (v.holder) v.holder = holders.get(v.holder) ?? v.holder;
  return {
    task,
    referral,
    patient,
    flags,
    risks,
    decisions: provenance.map(decisionOf).filter((d): d is RuleDecision => d !== undefined),
    versions,
    notes: (task.note ?? []).map((n) => ({ text: n.text, time: n.time })),
    hidden,
  };
}

async function searchAll<T>(store: ResourceStore, type: string, params: [string, string][]): Promise<T[]> {
  const page = await store.search(parseSearch(type, [...params, ['_count', '100']]));
  return page.matches as T[];
}

function decisionOf(p: Provenance): RuleDecision | undefined {
  const ext = p.extension?.find((e) => e.url === PATHWAY.triageDecision);
  if (!ext) return undefined;
  const part = (url: string): Extension | undefined => ext.extension?.find((e) => e.url === url);
  return {
    recorded: p.recorded,
    rule: part('rule')?.valueId,
    ruleSet: part('ruleSet')?.valueCanonical,
    ruleSetVersion: part('ruleSetVersion')?.valueString,
    outcome: part('pathway')?.valueCoding?.display ?? part('pathway')?.valueCoding?.code,
    priority: part('priority')?.valueCode,
    rationale: part('rationale')?.valueString ?? p.reason?.[0]?.text,
    missing: (ext.extension ?? []).filter((e) => e.url === 'missingItem').map((e) => e.valueCoding?.display ?? e.valueCoding?.code ?? ''),
  };
}

/** The levels of support a triage decision may record (published level-of-support), redirect apart. */
export const LEVELS_OF_SUPPORT = [
  { code: 'routine-support', text: 'Routine support' },
  { code: 'intensive-input', text: 'Intensive input' },
  { code: 'crisis-response', text: 'Crisis response' },
  { code: 'step-down', text: 'Step-down' },
  { code: 'ongoing-care', text: 'Ongoing care' },
] as const;


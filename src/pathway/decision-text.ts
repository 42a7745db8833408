import type { Coding, Duration } from '@medplum/fhirtypes';
import { PATHWAY } from './codes.js';
import type { IndicatorEvidence } from './indicators.js';

/**
 * A decision's rationale as a sentence a nurse reads on the Task and the Provenance: what was
 * decided, which code (or words) in the referral fired it, and the response standard. The rule id,
 * rule set and version sit beside it in the triage-decision extension, not in the sentence.
 */

type Priority = 'routine' | 'urgent' | 'asap' | 'stat';

const SYSTEM_NAMES: Record<string, string> = {
  'http://snomed.info/sct': 'SNOMED CT',
  'https://fhir.nhs.uk/CodeSystem/safeguarding-codes-bars': 'BaRS safeguarding code',
  [PATHWAY.indicator]: 'triage indicator',
};

/** England's response standards by priority (domain.md): emergency, urgent, routine. */
const STANDARD_NAMES: Record<Priority, string> = { stat: 'emergency', asap: 'emergency', urgent: 'urgent', routine: 'routine' };

const UNIT_WORDS: Record<string, string> = { min: 'minute', h: 'hour', d: 'day', wk: 'week' };

/** "4 hours", "1 day", "4 weeks". */
export function durationInWords(d: Duration): string {
  const word = UNIT_WORDS[d.code ?? ''] ?? d.unit ?? d.code ?? '';
  return `${d.value} ${word}${d.value === 1 ? '' : 's'}`;
}

export function standardSentence(priority: Priority, due: Duration): string {
  return `Standard: ${STANDARD_NAMES[priority]} response within ${durationInWords(due)}.`;
}

/** "suicidal thoughts (SNOMED CT 6471006)". */
function term(coding: Coding | undefined, says: string): string {
  const name = lowerFirst(says.replace(/\s*\((finding|disorder|situation|event)\)$/, ''));
  if (!coding?.code) return name;
  return `${name} (${SYSTEM_NAMES[coding.system ?? ''] ?? coding.system ?? 'code'} ${coding.code})`;
}

function lowerFirst(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s[0].toLowerCase() + s.slice(1) : s;
}

/**
 * The evidence as clauses, one per kind of source: "the referral gives suicidal thoughts (SNOMED
 * CT 6471006) as a reason for referral", "a risk assessment rates risk to self and risk to others
 * as high", "the referral text mentions an overdose ("…") and self-harm ("…")".
 */
export function evidenceClauses(evidence: IndicatorEvidence[]): string[] {
  const groups = new Map<string, IndicatorEvidence[]>();
  for (const e of evidence) {
    const key = e.source === 'risk-assessment' ? `${e.source}|${e.says}` : e.source;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.values()].map(groupClause);
}

function groupClause(group: IndicatorEvidence[]): string {
  const first = group[0];
  const terms = [...new Set(group.map((e) => term(e.coding, e.says)))];
  const list = joinClauses(terms);
  const many = terms.length > 1;
  switch (first.source) {
    case 'reason':
      return `the referral gives ${list} as ${many ? 'reasons' : 'a reason'} for referral`;
    case 'flag':
      return `${many ? 'active flags record' : 'an active flag records'} ${list}`;
    case 'condition':
      return `the referral records ${list} as ${many ? 'current conditions' : 'a current condition'}`;
    case 'risk-assessment':
      return `a risk assessment rates ${joinClauses([...new Set(group.map((e) => e.detail ?? 'a risk'))])} as ${first.says}`;
    case 'text':
      return `the referral text mentions ${joinClauses(group.map((e) => `${e.says} ("${e.detail}")`))}`;
  }
}

/** Clauses joined as a sentence part: "a, b and c"; the same clause said once. */
export function joinClauses(clauses: string[]): string {
  const distinct = [...new Set(clauses)];
  if (distinct.length <= 1) return distinct[0] ?? '';
  return `${distinct.slice(0, -1).join(', ')} and ${distinct[distinct.length - 1]}`;
}

/** Why a rule matched: its indicators' evidence, else its conditions' descriptions (an age, say). */
export function becauseOf(evidence: IndicatorEvidence[], conditionDescriptions: string[], age: number | undefined): string {
  if (evidence.length) return joinClauses(evidenceClauses(evidence));
  const ageNote = age === undefined ? '' : `; aged ${age} at referral`;
  return `${joinClauses(conditionDescriptions)}${ageNote}`;
}

export function decidedRationale(summary: string, because: string, priority: Priority, due: Duration): string {
  return `${summary}: ${because}. ${standardSentence(priority, due)}`;
}

/** Why the senior-oversight priority is what it is. */
export type OversightPriorityReason = 'matched-rules' | 'asked' | 'not-said';

export function oversightRationale(opts: {
  conflict: { summary: string; because: string }[];
  unmatchedEvidence: IndicatorEvidence[];
  priority: Priority;
  priorityReason: OversightPriorityReason;
  due: Duration;
  /** true when the due time is the senior review's own (24 hours), not a response standard that is sooner. */
  dueIsReview: boolean;
}): string {
  const why =
    opts.conflict.length > 1
      ? `the threshold rules disagree (${opts.conflict.map((c) => `${lowerFirst(c.summary)}, because ${c.because}`).join('; but ')}), so a senior clinician decides`
      : opts.unmatchedEvidence.length
        ? `${joinClauses(evidenceClauses(opts.unmatchedEvidence))}, but no threshold rule decides on that alone, so a senior clinician decides`
        : 'the referral records nothing the threshold rules recognise (no red flag, sign of deterioration, stable long-term illness or need outside the service), so a senior clinician decides';
  const priority = {
    'matched-rules': `Priority ${opts.priority}, the most urgent of the rules that matched.`,
    asked: `Priority ${opts.priority}, as the referrer asked.`,
    'not-said': `Priority ${opts.priority}: the referral does not say how urgent it is and records no red flag.`,
  }[opts.priorityReason];
  const standard = opts.dueIsReview ? `Standard: senior review within ${durationInWords(opts.due)}.` : standardSentence(opts.priority, opts.due);
  return `Senior oversight: ${why}. ${priority} ${standard}`;
}

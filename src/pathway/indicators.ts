import type { TypedValue } from '@medplum/core';
import type { CodeableConcept, CodeSystem, Coding, ConceptMap, Condition, Flag, Resource, RiskAssessment } from '@medplum/fhirtypes';
import { PATHWAY } from './codes.js';
import type { ReferralContext } from './referral-context.js';
import { INDICATOR_CONCEPT_MAP_FILE, readRulesFile, RED_FLAG_TEXT_FILE } from './rules-data.js';

/**
 * The triage indicators a referral carries, whatever code system its sender used: Stepwise's own
 * triage-indicator codes count as themselves; SNOMED CT, BaRS safeguarding and risk-probability
 * codes count through the published ConceptMap (profiles/rules/ConceptMap-triage-indicator.json);
 * a red-flag phrase in the referral's own words counts through red-flag-text.json. Each indicator
 * keeps its evidence, so a rationale can say which code (or words) fired a rule.
 */

/** Where in the referral an indicator was found. */
export type EvidenceSource = 'reason' | 'flag' | 'condition' | 'risk-assessment' | 'text';

export interface IndicatorEvidence {
  /** The triage-indicator code. */
  indicator: string;
  source: EvidenceSource;
  /** The sender's coding (none for text). */
  coding?: Coding;
  /** What the evidence says in words: the concept's name, a risk level, or the phrase's meaning. */
  says: string;
  /** For text, the words quoted; for a risk assessment, which risk it rates. */
  detail?: string;
}

export interface IndicatorVocabulary {
  /** `url|version` of the ConceptMap and of the red-flag text rules. */
  conceptMap: string;
  textRules: string;
  /** `system|code` → the indicator it maps to and the concept's name. */
  map: Map<string, { indicator: string; display: string }>;
  /** triage-indicator code → its display. */
  indicatorDisplay: Map<string, string>;
  phrases: { says: string; pattern: RegExp }[];
  textIndicator: string;
}

interface RedFlagText {
  url: string;
  version: string;
  indicator: string;
  phrases: { says: string; pattern: string }[];
}

const NOT_A_MAPPING = new Set(['unmatched', 'disjoint']);

export function compileVocabulary(cm: ConceptMap, text: RedFlagText, indicators: CodeSystem): IndicatorVocabulary {
  const map = new Map<string, { indicator: string; display: string }>();
  for (const group of cm.group ?? []) {
    if (group.target !== PATHWAY.indicator) throw new Error(`ConceptMap ${cm.url}: group ${group.source} maps to ${group.target}, not triage-indicator`);
    for (const element of group.element ?? []) {
      const target = element.target?.find((t) => t.code && !NOT_A_MAPPING.has(t.equivalence));
      if (target?.code && element.code) map.set(`${group.source}|${element.code}`, { indicator: target.code, display: element.display ?? element.code });
    }
  }
  return {
    conceptMap: `${cm.url}|${cm.version}`,
    textRules: `${text.url}|${text.version}`,
    map,
    indicatorDisplay: new Map((indicators.concept ?? []).map((c) => [c.code, c.display ?? c.code])),
    phrases: text.phrases.map((p) => ({ says: p.says, pattern: new RegExp(p.pattern, 'i') })),
    textIndicator: text.indicator,
  };
}

let published: IndicatorVocabulary | undefined;

/** The published ConceptMap, red-flag phrases and triage-indicator CodeSystem, compiled once. */
export function publishedVocabulary(): IndicatorVocabulary {
  published ??= compileVocabulary(
    readRulesFile<ConceptMap>(INDICATOR_CONCEPT_MAP_FILE),
    readRulesFile<RedFlagText>(RED_FLAG_TEXT_FILE),
    readRulesFile<CodeSystem>('CodeSystem-triage-indicator.json'),
  );
  return published;
}

/** Every indicator the referral carries, with its evidence, in the order found. */
export function findIndicators(ctx: ReferralContext, vocab: IndicatorVocabulary = publishedVocabulary()): IndicatorEvidence[] {
  const found: IndicatorEvidence[] = [];
  const concepts: [EvidenceSource, CodeableConcept | undefined][] = [
    ...(ctx.referral.reasonCode ?? []).map((c): [EvidenceSource, CodeableConcept] => ['reason', c]),
    ...ctx.related.filter(isActiveFlag).map((f): [EvidenceSource, CodeableConcept | undefined] => ['flag', f.code]),
    ...ctx.related.filter(isCurrentCondition).map((c): [EvidenceSource, CodeableConcept | undefined] => ['condition', c.code]),
  ];
  for (const [source, concept] of concepts) for (const coding of concept?.coding ?? []) pushMapped(found, vocab, source, coding);
  for (const ra of ctx.related.filter(isRiskAssessment)) {
    for (const p of ra.prediction ?? []) {
      const detail = p.outcome?.text ?? p.outcome?.coding?.[0]?.display ?? p.outcome?.coding?.[0]?.code?.replaceAll('-', ' ');
      for (const coding of p.qualitativeRisk?.coding ?? []) pushMapped(found, vocab, 'risk-assessment', coding, detail);
    }
  }
  const texts = [...concepts.map(([, c]) => c?.text), ...(ctx.referral.note ?? []).map((n) => n.text)];
  for (const text of texts) if (text) found.push(...phrasesIn(text, vocab));
  return found;
}

/** The indicators as FHIRPath sees them: %indicators, a CodeableConcept of distinct triage-indicator codes. */
export function indicatorsValue(evidence: IndicatorEvidence[]): TypedValue {
  const codes = [...new Set(evidence.map((e) => e.indicator))];
  return { type: 'CodeableConcept', value: { coding: codes.map((code) => ({ system: PATHWAY.indicator, code })) } };
}

function pushMapped(found: IndicatorEvidence[], vocab: IndicatorVocabulary, source: EvidenceSource, coding: Coding, detail?: string): void {
  if (!coding.code) return;
  if (coding.system === PATHWAY.indicator) {
    found.push({ indicator: coding.code, source, coding, says: vocab.indicatorDisplay.get(coding.code) ?? coding.code, detail });
    return;
  }
  const mapped = vocab.map.get(`${coding.system}|${coding.code}`);
  if (mapped) found.push({ indicator: mapped.indicator, source, coding, says: source === 'risk-assessment' ? coding.code : mapped.display, detail });
}

/** A phrase found in free text: the first match of each phrase, quoted with a little context. */
function phrasesIn(text: string, vocab: IndicatorVocabulary): IndicatorEvidence[] {
  const found: IndicatorEvidence[] = [];
  for (const phrase of vocab.phrases) {
    const m = phrase.pattern.exec(text);
    if (m) found.push({ indicator: vocab.textIndicator, source: 'text', says: phrase.says, detail: excerpt(text, m.index, m[0].length) });
  }
  return found;
}

const CONTEXT_CHARS = 40;

function excerpt(text: string, at: number, length: number): string {
  let start = Math.max(0, at - CONTEXT_CHARS);
  let end = Math.min(text.length, at + length + CONTEXT_CHARS);
  // cut at word boundaries, so a quote never ends mid-word
  if (start > 0) start = text.indexOf(' ', start) + 1 || start;
  if (end < text.length) end = Math.max(at + length, text.lastIndexOf(' ', end));
  return `${start > 0 ? '…' : ''}${text.slice(start, end).replace(/\s+/g, ' ').trim()}${end < text.length ? '…' : ''}`;
}

function isActiveFlag(r: Resource): r is Flag {
  return r.resourceType === 'Flag' && r.status === 'active';
}

const NOT_CURRENT = new Set(['resolved', 'inactive', 'remission']);
const NOT_TRUE = new Set(['refuted', 'entered-in-error']);

function isCurrentCondition(r: Resource): r is Condition {
  if (r.resourceType !== 'Condition') return false;
  const c = r as Condition;
  return !c.clinicalStatus?.coding?.some((x) => x.code && NOT_CURRENT.has(x.code)) && !c.verificationStatus?.coding?.some((x) => x.code && NOT_TRUE.has(x.code));
}

function isRiskAssessment(r: Resource): r is RiskAssessment {
  return r.resourceType === 'RiskAssessment' && (r as RiskAssessment).status !== 'entered-in-error';
}

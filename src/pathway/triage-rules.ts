import { evalFhirPath, parseFhirPath, type FhirPathAtom } from '@medplum/core';
import type { CodeableConcept, Coding, Duration, Organization, PlanDefinition, PlanDefinitionAction, Reference } from '@medplum/fhirtypes';
import { becauseOf, decidedRationale, oversightRationale, type OversightPriorityReason } from './decision-text.js';
import { findIndicators, indicatorsValue, publishedVocabulary, type IndicatorEvidence, type IndicatorVocabulary } from './indicators.js';
import { ageInYears, contextBundle, contextVariables, type ReferralContext } from './referral-context.js';
import { readTriageRules } from './rules-data.js';
import { PATHWAY } from './codes.js';

/** Task / request priorities, least urgent first (http://hl7.org/fhir/R4/valueset-request-priority.html). */
export const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const;
export type Priority = (typeof PRIORITIES)[number];

const MS_BY_UCUM: Record<string, number> = { min: 60_000, h: 3_600_000, d: 86_400_000, wk: 7 * 86_400_000 };

const ucum = (value: number, code: 'h' | 'wk'): Duration => ({ value, unit: code, system: 'http://unitsofmeasure.org', code });
/** Response standards in England (domain.md): emergency within 4 hours, urgent within 24 hours, routine within 4 weeks. */
const RESPONSE_STANDARD: Record<Priority, Duration> = { stat: ucum(4, 'h'), asap: ucum(4, 'h'), urgent: ucum(24, 'h'), routine: ucum(4, 'wk') };

interface CompiledCondition {
  name: string;
  description: string;
  /** The FHIRPath as published. */
  source: string;
  atom: FhirPathAtom;
}

/** What a rule assigns when it decides. */
export interface RuleOutcome {
  ruleId: string;
  title: string;
  /** The decision in a nurse's words (action.textEquivalent, else the title). */
  summary: string;
  /** Level of support (or redirected; senior-oversight for the fallback). */
  pathway: Coding;
  priority: Priority;
  /** Due from receipt, as published. */
  dueWithin: Duration;
  dueWithinMs: number;
  /** The owning team (dynamicValue `owner`). */
  owner: Reference<Organization>;
  /** The role of the lead professional (participant.role). */
  lead: CodeableConcept;
}

interface CompiledOutcome extends RuleOutcome {
  /** dynamicValue `priority`, evaluated per referral; the static priority when it gives no valid code. */
  priorityAtom?: FhirPathAtom;
}

interface CompiledRule extends CompiledOutcome {
  conditions: CompiledCondition[];
  /** The triage-indicator codes whose evidence the rationale quotes (action.input codeFilter). */
  inputs: string[];
}

export interface RuleSet {
  url: string;
  version: string;
  rules: CompiledRule[];
  fallback: CompiledOutcome;
  /** The codes and phrases that become %indicators. */
  vocabulary: IndicatorVocabulary;
}

export interface TriageDecision extends RuleOutcome {
  ruleSetUrl: string;
  ruleSetVersion: string;
  /** decided: one rule matched; senior-oversight: none or several did (borderline). */
  kind: 'decided' | 'senior-oversight';
  /** Every rule that matched, with the descriptions of its conditions. */
  matched: { ruleId: string; conditions: string[] }[];
  /** What fired the decision: the evidence of the matched rules' indicators. */
  evidence: IndicatorEvidence[];
  rationale: string;
}

/**
 * Compiles a rule PlanDefinition: each action with applicability conditions is a rule (its
 * conditions ANDed, as R4 PlanDefinition.action.condition says); the one action without
 * conditions is the senior-oversight fallback. Every FHIRPath is parsed once, here.
 */
export function compileRuleSet(pd: PlanDefinition, vocabulary: IndicatorVocabulary = publishedVocabulary()): RuleSet {
  const where = `PlanDefinition ${pd.url ?? pd.id}`;
  if (!pd.url || !pd.version) throw new Error(`${where}: a published rule set needs url and version`);
  const rules: CompiledRule[] = [];
  const fallbacks: CompiledOutcome[] = [];
  const ids = new Set<string>();
  for (const [i, action] of (pd.action ?? []).entries()) {
    const id = action.id;
    if (!id) throw new Error(`${where}: action[${i}] has no id (the rule id decisions cite)`);
    if (ids.has(id)) throw new Error(`${where}: rule id ${id} appears twice`);
    ids.add(id);
    const outcome = compileOutcome(action, where);
    const conditions = (action.condition ?? []).map((c, j) => {
      if (c.kind !== 'applicability') throw new Error(`${where}: rule ${id} condition[${j}] is ${c.kind}; only applicability conditions are read`);
      const expr = c.expression;
      if (!expr?.expression || expr.language !== 'text/fhirpath') throw new Error(`${where}: rule ${id} condition[${j}] needs a text/fhirpath expression`);
      try {
        return { name: expr.name ?? `condition-${j}`, description: expr.description ?? expr.expression, source: expr.expression, atom: parseFhirPath(expr.expression) };
      } catch (err) {
        throw new Error(`${where}: rule ${id} condition[${j}]: ${(err as Error).message}`, { cause: err });
      }
    });
    if (conditions.length) rules.push({ ...outcome, conditions, inputs: indicatorInputs(action) });
    else fallbacks.push(outcome);
  }
  if (fallbacks.length !== 1) throw new Error(`${where}: exactly one action without conditions (the senior-oversight fallback) is needed, found ${fallbacks.length}`);
  if (rules.length === 0) throw new Error(`${where}: no rules`);
  return { url: pd.url, version: pd.version, rules, fallback: fallbacks[0], vocabulary };
}

/** The triage-indicator codes an action's inputs name (DataRequirement.codeFilter.code). */
function indicatorInputs(action: PlanDefinitionAction): string[] {
  const codes = (action.input ?? []).flatMap((i) => i.codeFilter ?? []).flatMap((f) => f.code ?? []);
  return codes.filter((c) => c.system === PATHWAY.indicator && c.code).map((c) => c.code!);
}

function compileOutcome(action: PlanDefinitionAction, where: string): CompiledOutcome {
  const id = action.id!;
  const pathway = action.code?.[0]?.coding?.[0];
  if (!pathway?.code) throw new Error(`${where}: rule ${id} has no code (the level of support it assigns)`);
  const priority = action.priority;
  if (!priority) throw new Error(`${where}: rule ${id} has no priority`);
  const d = action.timingDuration;
  const unitMs = d?.code ? MS_BY_UCUM[d.code] : undefined;
  if (!d || typeof d.value !== 'number' || d.value <= 0 || unitMs === undefined) throw new Error(`${where}: rule ${id} needs timingDuration in UCUM min, h, d or wk`);
  const lead = action.participant?.[0]?.role;
  if (!lead) throw new Error(`${where}: rule ${id} has no participant role (the lead professional)`);
  const ownerExpr = action.dynamicValue?.find((v) => v.path === 'owner')?.expression;
  const owner = ownerExpr?.expression ? evalFhirPath(ownerExpr.expression, {})[0] : undefined;
  if (typeof owner !== 'string' || !/^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(owner)) throw new Error(`${where}: rule ${id} needs a dynamicValue owner giving 'Organization/id' (the owning team)`);
  const priorityExpr = action.dynamicValue?.find((v) => v.path === 'priority')?.expression?.expression;
  const priorityAtom = priorityExpr ? parseFhirPath(priorityExpr) : undefined;
  const title = action.title ?? id;
  return { ruleId: id, title, summary: action.textEquivalent ?? title, pathway, priority, priorityAtom, dueWithin: d, dueWithinMs: d.value * unitMs, owner: { reference: owner }, lead };
}

const compiledByKey = new Map<string, RuleSet>();

/** A compiled rule set, cached by url|version: a published version never changes. */
export function ruleSetFor(pd: PlanDefinition): RuleSet {
  const key = `${pd.url}|${pd.version}`;
  let set = compiledByKey.get(key);
  if (!set) {
    set = compileRuleSet(pd);
    if (pd.status === 'active') compiledByKey.set(key, set);
  }
  return set;
}

let published: RuleSet | undefined;

/** The published rule set, profiles/rules/PlanDefinition-front-door-triage.json. */
export function publishedRuleSet(): RuleSet {
  published ??= compileRuleSet(readTriageRules());
  return published;
}

/**
 * Applies the rules to a referral (pure). One match decides; none, or several, go to senior
 * oversight at the priority the referral asked for (the fallback's dynamicValue; routine when it
 * does not say), raised to the most urgent priority of the matched rules, due within the soonest
 * of the fallback's own time, the matched rules' due times and the standard of that priority, so
 * a red flag keeps its same-day due time even when another rule disagrees.
 */
export function evaluateRules(ctx: ReferralContext, ruleSet: RuleSet = publishedRuleSet()): TriageDecision {
  const bundle = contextBundle(ctx);
  const evidence = findIndicators(ctx, ruleSet.vocabulary);
  const variables = { ...contextVariables(ctx), '%indicators': indicatorsValue(evidence) };
  const matched = ruleSet.rules.filter((rule) => rule.conditions.every((c) => holds(evalFhirPath(c.atom, bundle, variables))));
  const age = ageInYears(ctx.patient?.birthDate, ctx.referral.authoredOn);
  const fired = (rule: CompiledRule) => evidence.filter((e) => rule.inputs.includes(e.indicator));
  const reading: Reading = {
    because: (rule) => becauseOf(fired(rule), rule.conditions.map((c) => c.description), usesAge(rule) ? age : undefined),
    priority: (atom) => dynamicPriority(atom, bundle, variables),
  };
  const base = {
    ruleSetUrl: ruleSet.url,
    ruleSetVersion: ruleSet.version,
    matched: matched.map((r) => ({ ruleId: r.ruleId, conditions: r.conditions.map((c) => c.description) })),
    evidence: matched.flatMap(fired),
  };
  if (matched.length === 1) return { ...decided(matched[0], reading), ...base, kind: 'decided' };
  return { ...seniorOversight(ruleSet.fallback, matched, matched.length ? [] : evidence, reading), ...base, kind: 'senior-oversight' };
}

/** What evaluating a rule needs from the referral: why it matched, and a dynamic priority. */
interface Reading {
  because(rule: CompiledRule): string;
  priority(atom: FhirPathAtom | undefined): Priority | undefined;
}

function decided(rule: CompiledRule, reading: Reading): RuleOutcome & { rationale: string } {
  const { conditions: _conditions, inputs: _inputs, priorityAtom, ...outcome } = rule;
  const priority = reading.priority(priorityAtom) ?? outcome.priority;
  return { ...outcome, priority, rationale: decidedRationale(outcome.summary, reading.because(rule), priority, outcome.dueWithin) };
}

/** None or several rules matched: the fallback, at the referral's own priority raised by the matched rules. */
function seniorOversight(fallbackRule: CompiledOutcome, matched: CompiledRule[], unmatchedEvidence: IndicatorEvidence[], reading: Reading): RuleOutcome & { rationale: string } {
  const { priorityAtom, ...fallback } = fallbackRule;
  const asked = reading.priority(priorityAtom);
  const own = asked ?? fallback.priority;
  const priority = [own, ...matched.map((r) => r.priority)].reduce(moreUrgent);
  const priorityReason: OversightPriorityReason = priority !== own ? 'matched-rules' : asked ? 'asked' : 'not-said';
  const dueWithin = [fallback.dueWithin, RESPONSE_STANDARD[priority], ...matched.map((r) => r.dueWithin)].reduce((a, b) => (toMs(b) < toMs(a) ? b : a));
  const rationale = oversightRationale({
    conflict: matched.map((r) => ({ summary: r.summary, because: reading.because(r) })),
    unmatchedEvidence,
    priority,
    priorityReason,
    due: dueWithin,
    dueIsReview: toMs(dueWithin) === toMs(fallback.dueWithin),
  });
  return { ...fallback, priority, dueWithin, dueWithinMs: toMs(dueWithin), rationale };
}

function dynamicPriority(atom: FhirPathAtom | undefined, bundle: ReturnType<typeof contextBundle>, variables: ReturnType<typeof contextVariables>): Priority | undefined {
  if (!atom) return undefined;
  const [value] = evalFhirPath(atom, bundle, variables);
  return PRIORITIES.includes(value as Priority) ? (value as Priority) : undefined;
}

function moreUrgent(a: Priority, b: Priority): Priority {
  return PRIORITIES.indexOf(b) > PRIORITIES.indexOf(a) ? b : a;
}

function toMs(d: Duration): number {
  return (d.value ?? 0) * (MS_BY_UCUM[d.code ?? ''] ?? 0);
}

/** Whether a rule reads the age at referral (its rationale then states the age). */
function usesAge(rule: CompiledRule): boolean {
  return rule.conditions.some((c) => c.source.includes('%ageAtReferral'));
}

function holds(result: unknown[]): boolean {
  return result.length === 1 && result[0] === true;
}

export function formatDuration(d: Duration): string {
  return `${d.value} ${d.unit ?? d.code}`;
}

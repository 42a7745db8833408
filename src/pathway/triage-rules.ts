import { evalFhirPath, parseFhirPath, type FhirPathAtom } from '@medplum/core';
import type { CodeableConcept, Coding, Duration, Organization, PlanDefinition, PlanDefinitionAction, Reference } from '@medplum/fhirtypes';
import { contextBundle, contextVariables, type ReferralContext } from './referral-context.js';
import { readTriageRules } from './rules-data.js';

/** Task / request priorities, least urgent first (http://hl7.org/fhir/R4/valueset-request-priority.html). */
export const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const;
export type Priority = (typeof PRIORITIES)[number];

const MS_BY_UCUM: Record<string, number> = { min: 60_000, h: 3_600_000, d: 86_400_000, wk: 7 * 86_400_000 };

interface CompiledCondition {
  name: string;
  description: string;
  atom: FhirPathAtom;
}

/** What a rule assigns when it decides. */
export interface RuleOutcome {
  ruleId: string;
  title: string;
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

interface CompiledRule extends RuleOutcome {
  conditions: CompiledCondition[];
}

export interface RuleSet {
  url: string;
  version: string;
  rules: CompiledRule[];
  fallback: RuleOutcome;
}

export interface TriageDecision extends RuleOutcome {
  ruleSetUrl: string;
  ruleSetVersion: string;
  /** decided: one rule matched; senior-oversight: none or several did (borderline). */
  kind: 'decided' | 'senior-oversight';
  /** Every rule that matched, with the descriptions of its conditions. */
  matched: { ruleId: string; conditions: string[] }[];
  rationale: string;
}

/**
 * Compiles a rule PlanDefinition: each action with applicability conditions is a rule (its
 * conditions ANDed, as R4 PlanDefinition.action.condition says); the one action without
 * conditions is the senior-oversight fallback. Every FHIRPath is parsed once, here.
 */
export function compileRuleSet(pd: PlanDefinition): RuleSet {
  const where = `PlanDefinition ${pd.url ?? pd.id}`;
  if (!pd.url || !pd.version) throw new Error(`${where}: a published rule set needs url and version`);
  const rules: CompiledRule[] = [];
  const fallbacks: RuleOutcome[] = [];
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
        return { name: expr.name ?? `condition-${j}`, description: expr.description ?? expr.expression, atom: parseFhirPath(expr.expression) };
      } catch (err) {
        throw new Error(`${where}: rule ${id} condition[${j}]: ${(err as Error).message}`, { cause: err });
      }
    });
    if (conditions.length) rules.push({ ...outcome, conditions });
    else fallbacks.push(outcome);
  }
  if (fallbacks.length !== 1) throw new Error(`${where}: exactly one action without conditions (the senior-oversight fallback) is needed, found ${fallbacks.length}`);
  if (rules.length === 0) throw new Error(`${where}: no rules`);
  return { url: pd.url, version: pd.version, rules, fallback: fallbacks[0] };
}

function compileOutcome(action: PlanDefinitionAction, where: string): RuleOutcome {
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
  return { ruleId: id, title: action.title ?? id, pathway, priority, dueWithin: d, dueWithinMs: d.value * unitMs, owner: { reference: owner }, lead };
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
 * oversight with the most urgent priority and due time among the matched rules and the fallback,
 * so a red flag keeps its same-day due time even when another rule disagrees.
 */
export function evaluateRules(ctx: ReferralContext, ruleSet: RuleSet = publishedRuleSet()): TriageDecision {
  const bundle = contextBundle(ctx);
  const variables = contextVariables(ctx);
  const matched: CompiledRule[] = [];
  const unmet: string[] = [];
  for (const rule of ruleSet.rules) {
    const failed = rule.conditions.find((c) => !holds(evalFhirPath(c.atom, bundle, variables)));
    if (failed) unmet.push(`${rule.ruleId}: not ${failed.description}`);
    else matched.push(rule);
  }
  const base = { ruleSetUrl: ruleSet.url, ruleSetVersion: ruleSet.version, matched: matched.map((r) => ({ ruleId: r.ruleId, conditions: r.conditions.map((c) => c.description) })) };
  const version = `${ruleSet.url}|${ruleSet.version}`;
  if (matched.length === 1) {
    const rule = matched[0];
    const { conditions, ...outcome } = rule;
    return { ...outcome, ...base, kind: 'decided', rationale: `Rule ${rule.ruleId} of ${version} matched: ${conditions.map((c) => c.description).join('; ')}.` };
  }
  const candidates: RuleOutcome[] = [ruleSet.fallback, ...matched];
  const priority = candidates.map((c) => c.priority).reduce((a, b) => (PRIORITIES.indexOf(b) > PRIORITIES.indexOf(a) ? b : a));
  const soonest = candidates.reduce((a, b) => (b.dueWithinMs < a.dueWithinMs ? b : a));
  const rationale =
    matched.length === 0
      ? `No rule of ${version} matched (${unmet.join('; ')}): senior oversight.`
      : `Rules ${matched.map((r) => r.ruleId).join(' and ')} of ${version} all matched (${matched.map((r) => `${r.ruleId}: ${r.conditions.map((c) => c.description).join(', ')}`).join('; ')}): they disagree, so senior oversight, with the most urgent priority (${priority}) and due time (${formatDuration(soonest.dueWithin)}) of the rules that matched.`;
  return { ...ruleSet.fallback, ...base, priority, dueWithin: soonest.dueWithin, dueWithinMs: soonest.dueWithinMs, kind: 'senior-oversight', rationale };
}

function holds(result: unknown[]): boolean {
  return result.length === 1 && result[0] === true;
}

export function formatDuration(d: Duration): string {
  return `${d.value} ${d.unit ?? d.code}`;
}

import type { Questionnaire, QuestionnaireItem, QuestionnaireItemEnableWhen } from '@medplum/fhirtypes';
import type { ValidationContext, ValueCheck } from './context.js';
import { enableWhenExpressionOf, evaluateEnableWhenExpression } from './enable-when-expression.js';
import { answerValueChecks } from './questionnaire-answers.js';
import type { ConformanceRegistry } from './registry.js';
import type { Terminology } from './terminology.js';

/**
 * A QuestionnaireResponse is checked against the Questionnaire it names, when the registry holds it
 * (http://hl7.org/fhir/R4/questionnaireresponse.html#link: "the QuestionnaireResponse SHALL conform
 * to the Questionnaire"), the way the HL7 validator's QuestionnaireValidator does: each item's linkId
 * must exist at its level, a required and enabled item must be answered, a disabled one must not be,
 * answers must have the item's type, be one of its options and respect its limits. The issues are
 * profile issues: the Questionnaire constrains the response as a profile would.
 */
export function questionnaireResponseRule(registry: ConformanceRegistry, terminology: Terminology): ValueCheck {
  return (value, path, ctx) => {
    const qr = value as QR;
    if (typeof qr.questionnaire !== 'string') return;
    const questionnaire = findQuestionnaire(qr, registry);
    if (!questionnaire) {
      ctx.issues.warning('not-found', `${path}.questionnaire`, `The questionnaire '${qr.questionnaire}' could not be resolved, so no validation can be performed against it`);
      return;
    }
    const run: Run = {
      ctx,
      terminology,
      registry,
      questionnaire,
      response: value,
      // An unfinished response may leave required items unanswered (questionnaireresponse.html#statuses).
      inProgress: qr.status === 'in-progress',
      answersByLinkId: collectAnswers(qr.item ?? []),
    };
    ctx.issues.underProfile(() => checkItemList(run, questionnaire.item ?? [], qr.item ?? [], path));
  };
}

export interface QRItem {
  linkId?: string;
  text?: string;
  answer?: QRAnswer[];
  item?: QRItem[];
}

export type QRAnswer = Record<string, unknown> & { item?: QRItem[] };

interface QR {
  questionnaire?: unknown;
  status?: unknown;
  item?: QRItem[];
  contained?: Array<{ resourceType?: string; id?: string }>;
}

export interface Run {
  ctx: ValidationContext;
  terminology: Terminology;
  registry: ConformanceRegistry;
  questionnaire: Questionnaire;
  /** The QuestionnaireResponse itself, for enableWhenExpression. */
  response?: unknown;
  inProgress: boolean;
  answersByLinkId: Map<string, QRAnswer[]>;
}

/** A canonical, or `#id` of a contained Questionnaire (references.html#canonical). */
function findQuestionnaire(qr: QR, registry: ConformanceRegistry): Questionnaire | undefined {
  const url = qr.questionnaire as string;
  if (url.startsWith('#')) {
    const found = qr.contained?.find((r) => r.resourceType === 'Questionnaire' && r.id === url.slice(1));
    return found as Questionnaire | undefined;
  }
  return registry.getQuestionnaire(url);
}

function collectAnswers(items: QRItem[], into = new Map<string, QRAnswer[]>()): Map<string, QRAnswer[]> {
  for (const item of items) {
    if (!Array.isArray(item?.item) && !Array.isArray(item?.answer) && typeof item?.linkId !== 'string') continue;
    if (typeof item.linkId === 'string') {
      const list = into.get(item.linkId) ?? [];
      list.push(...(Array.isArray(item.answer) ? item.answer : []));
      into.set(item.linkId, list);
    }
    if (Array.isArray(item.item)) collectAnswers(item.item, into);
    for (const answer of Array.isArray(item.answer) ? item.answer : []) {
      if (Array.isArray(answer?.item)) collectAnswers(answer.item, into);
    }
  }
  return into;
}

function findAnywhere(items: QuestionnaireItem[] | undefined, linkId: string): QuestionnaireItem | undefined {
  for (const item of items ?? []) {
    if (item.linkId === linkId) return item;
    const found = findAnywhere(item.item, linkId);
    if (found) return found;
  }
  return undefined;
}

/** The response items under one parent against the questionnaire items defined at that level. */
function checkItemList(run: Run, qItems: QuestionnaireItem[], items: QRItem[], parentPath: string): void {
  const byLinkId = new Map<string, Array<{ item: QRItem; path: string }>>();
  items.forEach((item, i) => {
    const path = `${parentPath}.item[${i}]`;
    if (item === null || typeof item !== 'object') return;
    if (typeof item.linkId !== 'string') return; // QuestionnaireResponse.item.linkId is 1..1: reported by the structure check
    if (!qItems.some((q) => q.linkId === item.linkId)) {
      const elsewhere = findAnywhere(run.questionnaire.item, item.linkId);
      run.ctx.issues.error(
        'structure',
        path,
        elsewhere
          ? `Structural Error: item '${item.linkId}' is in the wrong place in the response (it is not defined at this level of the questionnaire)`
          : `LinkId '${item.linkId}' not found in questionnaire`,
      );
      return;
    }
    const list = byLinkId.get(item.linkId) ?? [];
    list.push({ item, path });
    byLinkId.set(item.linkId, list);
  });
  for (const qItem of qItems) {
    const present = byLinkId.get(qItem.linkId) ?? [];
    checkItemsFor(run, qItem, present, parentPath);
  }
}

function checkItemsFor(run: Run, qItem: QuestionnaireItem, present: Array<{ item: QRItem; path: string }>, parentPath: string): void {
  const issues = run.ctx.issues;
  const answered = present.filter(({ item }) => hasAny(item.answer) || hasAny(item.item));
  if (answered.length === 0) {
    const minOccurs = integerExtension(qItem, 'http://hl7.org/fhir/StructureDefinition/questionnaire-minOccurs');
    // whether an unanswered item is enabled matters only when it must be answered
    const mustAnswer = (qItem.required && qItem.type !== 'display') || (minOccurs !== undefined && minOccurs > 0);
    const enabled = mustAnswer && isEnabled(run, qItem, present[0]?.item, present[0]?.path ?? parentPath);
    if (enabled && qItem.required && qItem.type !== 'display') missing(run, parentPath, `No response answer found for required item '${qItem.linkId}'`);
    if (enabled && minOccurs !== undefined && minOccurs > 0) {
      const where = present[0]?.path ?? parentPath;
      missing(run, where, `The minimum number of answers is ${minOccurs} but this has 0 answers`);
    }
    return;
  }
  // each response item separately: an enableWhenExpression sees its own item as %context
  const enabled = answered.map(({ item, path }) => isEnabled(run, qItem, item, path));
  answered.forEach(({ path }, i) => {
    if (!enabled[i]) issues.error('business-rule', path, `Item has answer, even though it is not enabled (item id = '${qItem.linkId}')`);
  });
  if (answered.length > 1 && !qItem.repeats) {
    for (const { path } of answered.slice(1)) issues.error('structure', path, `Only one response item with this linkId allowed - ${qItem.linkId}`);
  }
  answered.forEach(({ item, path }, i) => checkItem(run, qItem, item, path, enabled[i]));
}

function checkItem(run: Run, qItem: QuestionnaireItem, item: QRItem, path: string, enabled: boolean): void {
  const issues = run.ctx.issues;
  const answers = Array.isArray(item.answer) ? item.answer : [];
  const children = Array.isArray(item.item) ? item.item : [];
  if (enabled && qItem.required && answers.length === 0) {
    if (qItem.type === 'group') {
      if (children.length === 0) missing(run, path, 'No sub-items found for required group');
    } else if (qItem.type !== 'display') {
      missing(run, path, `No response answer found for required item '${qItem.linkId}'`);
    }
  }
  if (answers.length > 1 && !qItem.repeats) issues.error('structure', path, 'Only one response answer item with this linkId allowed');
  const minOccurs = integerExtension(qItem, 'http://hl7.org/fhir/StructureDefinition/questionnaire-minOccurs');
  if (minOccurs !== undefined && answers.length < minOccurs && qItem.type !== 'group') {
    missing(run, path, `The minimum number of answers is ${minOccurs} but this has ${answers.length} answers`);
  }
  const maxOccurs = integerExtension(qItem, 'http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs');
  if (maxOccurs !== undefined && answers.length > maxOccurs) {
    issues.error('structure', path, `The maximum number of answers is ${maxOccurs} but this has ${answers.length} answers`);
  }
  answers.forEach((answer, i) => {
    const answerPath = `${path}.answer[${i}]`;
    if (answer === null || typeof answer !== 'object') return;
    if (qItem.type === 'group' || qItem.type === 'question') {
      issues.error('structure', path, `Items of type ${qItem.type} should not have answers`);
    } else if (qItem.type === 'display') {
      issues.error('structure', path, "Items of type 'display' cannot have answers");
    } else {
      answerValueChecks(run, qItem, answer, answerPath, answers);
    }
    // What is nested under an answer is defined by the item's own children (questionnaireresponse.html).
    if (qItem.type !== 'group' && Array.isArray(answer.item)) checkItemList(run, qItem.item ?? [], answer.item, answerPath);
  });
  if (qItem.type === 'group') {
    checkItemList(run, qItem.item ?? [], children, path);
  } else if (children.length > 0) {
    issues.error('structure', path, `Item '${qItem.linkId}' of type ${qItem.type} holds items directly; only a group can (the children of a question go in its answers)`);
  }
}

function missing(run: Run, path: string, message: string): void {
  if (run.inProgress) run.ctx.issues.warning('required', path, message);
  else run.ctx.issues.error('required', path, message);
}

function hasAny(x: unknown): boolean {
  return Array.isArray(x) && x.length > 0;
}

export function extensionsOf(element: { extension?: Array<{ url?: string } & Record<string, unknown>> }, url: string): Array<Record<string, unknown>> {
  return (element.extension ?? []).filter((e) => e?.url === url);
}

function integerExtension(qItem: QuestionnaireItem, url: string): number | undefined {
  const value = extensionsOf(qItem as never, url)[0]?.valueInteger;
  return typeof value === 'number' ? value : undefined;
}

/**
 * enableWhen (questionnaire.html#enableWhen): each condition looks at the answers given to its
 * question anywhere in the response; `exists` compares presence, the other operators are true when
 * any answer satisfies them. Several conditions combine by enableBehavior (all, when absent).
 * An enableWhenExpression (SDC) decides instead when the item has one; one that cannot be evaluated
 * is a warning and the item counts as enabled, as in the HL7 validator (it cannot be shown disabled).
 */
function isEnabled(run: Run, qItem: QuestionnaireItem, responseItem: QRItem | undefined, path: string): boolean {
  const expression = enableWhenExpressionOf(qItem);
  if (expression !== undefined) {
    const outcome =
      typeof expression === 'string'
        ? evaluateEnableWhenExpression(expression, run.response, responseItem, run.questionnaire, qItem)
        : { uncheckable: expression.unsupported };
    if ('enabled' in outcome) return outcome.enabled;
    run.ctx.issues.warning('not-supported', path, `The enableWhenExpression of item '${qItem.linkId}' was not evaluated: ${outcome.uncheckable}; the item is treated as enabled`);
    return true;
  }
  const conditions = qItem.enableWhen ?? [];
  if (conditions.length === 0) return true;
  const results = conditions.map((c) => conditionHolds(run, c));
  return qItem.enableBehavior === 'any' ? results.some(Boolean) : results.every(Boolean);
}

function conditionHolds(run: Run, condition: QuestionnaireItemEnableWhen): boolean {
  const answers = run.answersByLinkId.get(condition.question) ?? [];
  if (condition.operator === 'exists') return answers.length > 0 === (condition.answerBoolean ?? true);
  const expected = valueOf(condition as unknown as Record<string, unknown>, 'answer');
  if (!expected) return false;
  return answers.some((a) => {
    const actual = valueOf(a, 'value');
    if (!actual) return false;
    const order = compareValues(actual, expected);
    switch (condition.operator) {
      case '=':
        return order === 0;
      case '!=':
        return order !== 0;
      case '>':
        return order !== undefined && order > 0;
      case '<':
        return order !== undefined && order < 0;
      case '>=':
        return order !== undefined && order >= 0;
      case '<=':
        return order !== undefined && order <= 0;
      default:
        return false;
    }
  });
}

export interface TypedChoice {
  type: string;
  value: unknown;
}

/** The one `<prefix>[x]` value of an object, with its type suffix (`valueCoding` -> Coding). */
export function valueOf(obj: Record<string, unknown>, prefix: string): TypedChoice | undefined {
  for (const key in obj) {
    if (key.startsWith(prefix) && key.length > prefix.length && /^[A-Z]/.test(key[prefix.length]) && obj[key] !== undefined) {
      return { type: key.slice(prefix.length), value: obj[key] };
    }
  }
  return undefined;
}

/** Equality (0) or order of two answer values of the same type; undefined when not comparable. */
export function compareValues(a: TypedChoice, b: TypedChoice): number | undefined {
  if (a.type !== b.type) return undefined;
  if (a.type === 'Coding') {
    const x = a.value as { system?: string; code?: string };
    const y = b.value as { system?: string; code?: string };
    return x.code === y.code && (x.system === y.system || !x.system || !y.system) ? 0 : undefined;
  }
  if (a.type === 'Quantity') {
    const x = a.value as { value?: number; code?: string };
    const y = b.value as { value?: number; code?: string };
    if (x.code !== y.code || typeof x.value !== 'number' || typeof y.value !== 'number') return undefined;
    return Math.sign(x.value - y.value);
  }
  if (a.type === 'Reference') return (a.value as { reference?: string }).reference === (b.value as { reference?: string }).reference ? 0 : undefined;
  if (typeof a.value === 'number' && typeof b.value === 'number') return Math.sign(a.value - b.value);
  if (typeof a.value === 'boolean' && typeof b.value === 'boolean') return a.value === b.value ? 0 : undefined;
  if (typeof a.value === 'string' && typeof b.value === 'string') return a.value === b.value ? 0 : a.value < b.value ? -1 : 1;
  return undefined;
}

import type { ValidationContext, ValueCheck } from './context.js';

/**
 * A Questionnaire's enableWhen names a question that can be answered before the item it enables
 * (http://hl7.org/fhir/R4/questionnaire-definitions.html#Questionnaire.item.enableWhen.question: "the
 * linkId for the question whose answer … governs whether this item is displayed"). As the HL7
 * validator checks it: the question exists, is not the item itself, and is not inside it (an
 * item hidden until one of its own questions is answered could never be shown).
 */

interface Item {
  linkId?: unknown;
  enableWhen?: unknown;
  item?: unknown;
}

export const questionnaireEnableWhenRule: ValueCheck = (value, path, ctx) => {
  const items = asItems((value as { item?: unknown }).item);
  const all = new Set<string>();
  collectLinkIds(items, all);
  checkItems(items, `${path}.item`, all, ctx);
};

function checkItems(items: Item[], path: string, all: Set<string>, ctx: ValidationContext): void {
  items.forEach((item, i) => {
    const where = `${path}[${i}]`;
    const inner = new Set<string>();
    collectLinkIds(asItems(item.item), inner);
    const conditions = Array.isArray(item.enableWhen) ? (item.enableWhen as Array<{ question?: unknown } | null>) : [];
    conditions.forEach((condition, j) => {
      const question = condition?.question;
      if (typeof question !== 'string') return;
      if (question === item.linkId) {
        ctx.issues.error('business-rule', `${where}.enableWhen[${j}]`, "Target for this question enableWhen can't reference itself");
      } else if (inner.has(question)) {
        ctx.issues.error('business-rule', where, 'Questions with an enableWhen cannot refer to an inner question for its enableWhen condition');
      } else if (!all.has(question)) {
        ctx.issues.error('business-rule', `${where}.enableWhen[${j}]`, `Unable to find an item with the linkId '${question}' which is referenced in the enableWhen for '${String(item.linkId)}'`);
      }
    });
    checkItems(asItems(item.item), `${where}.item`, all, ctx);
  });
}

function collectLinkIds(items: Item[], into: Set<string>): void {
  for (const item of items) {
    if (typeof item.linkId === 'string') into.add(item.linkId);
    collectLinkIds(asItems(item.item), into);
  }
}

function asItems(value: unknown): Item[] {
  return Array.isArray(value) ? (value as unknown[]).filter((v): v is Item => v !== null && typeof v === 'object') : [];
}

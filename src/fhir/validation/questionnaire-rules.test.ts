import { describe, expect, it } from 'vitest';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** A Questionnaire's enableWhen names an answerable question outside the item (questionnaire-rules.ts). */

const validator = createR4Validator();
const errorLines = (q: unknown) => summary(errors(validator.validate(q)));
const when = (question: string) => ({ question, operator: '=', answerBoolean: true });
const questionnaire = (item: unknown[]) => ({ resourceType: 'Questionnaire', status: 'draft', item });

describe('Questionnaire enableWhen', () => {
  it('passes for a question elsewhere in the questionnaire', () => {
    const q = questionnaire([
      { linkId: 'consent', type: 'boolean' },
      { linkId: 'group', type: 'group', item: [{ linkId: 'details', type: 'string', enableWhen: [when('consent')] }] },
    ]);
    expect(errorLines(q)).toEqual([]);
  });

  it('cannot name a question inside the item it enables', () => {
    const q = questionnaire([{ linkId: 'group', type: 'group', enableWhen: [when('condition')], item: [{ linkId: 'condition', type: 'boolean' }] }]);
    expect(errorLines(q)).toEqual(['error Questionnaire.item[0]: Questions with an enableWhen cannot refer to an inner question for its enableWhen condition']);
  });

  it('cannot name the item itself, or a linkId that does not exist', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'boolean', enableWhen: [when('a')] },
      { linkId: 'b', type: 'boolean', enableWhen: [when('nowhere')] },
    ]);
    expect(errorLines(q)).toEqual([
      "error Questionnaire.item[0].enableWhen[0]: Target for this question enableWhen can't reference itself",
      "error Questionnaire.item[1].enableWhen[0]: Unable to find an item with the linkId 'nowhere' which is referenced in the enableWhen for 'b'",
    ]);
  });
});

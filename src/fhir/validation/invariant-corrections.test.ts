import { describe, expect, it } from 'vitest';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** Invariants whose R4 expression says less than their words, evaluated as the HL7 validator does. */

const validator = createR4Validator();

describe('que-12: more than one enableWhen needs enableBehavior', () => {
  const questionnaire = (item: Record<string, unknown>) => ({
    resourceType: 'Questionnaire',
    status: 'draft',
    item: [{ linkId: 'a', type: 'boolean' }, { linkId: 'b', type: 'boolean' }, { linkId: 'c', type: 'string', ...item }],
  });
  const when = (question: string) => ({ question, operator: '=', answerBoolean: true });

  it('fails with two enableWhen and no enableBehavior (R4 writes count() > 2; its words say more than one)', () => {
    expect(summary(errors(validator.validate(questionnaire({ enableWhen: [when('a'), when('b')] }))))).toEqual([
      'error Questionnaire.item[2]: Constraint que-12 failed: If there are more than one enableWhen, enableBehavior must be specified',
    ]);
  });

  it('passes with enableBehavior, or with one enableWhen', () => {
    expect(errors(validator.validate(questionnaire({ enableWhen: [when('a'), when('b')], enableBehavior: 'any' })))).toEqual([]);
    expect(errors(validator.validate(questionnaire({ enableWhen: [when('a')] })))).toEqual([]);
  });
});

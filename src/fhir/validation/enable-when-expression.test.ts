import type { Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createR4Validator } from './validator.js';

// SDC's enableWhenExpression (http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression,
// expressions.html): a FHIRPath expression over the response decides whether an item is enabled; an
// empty result is false. An answered item that is not enabled is an error, as for enableWhen.

const URL = 'https://stepwise.example/fhir/Questionnaire/enable-when-expression';
const SDC = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression';
const validator = createR4Validator();
let n = 0;

function withExpression(expression: string, language: 'text/fhirpath' | 'text/cql' = 'text/fhirpath', required = false): QuestionnaireItem[] {
  return [
    { linkId: 'smoker', type: 'boolean' },
    { linkId: 'packs', type: 'integer', required, extension: [{ url: SDC, valueExpression: { language, expression } }] },
  ];
}

function check(items: QuestionnaireItem[], smoker: boolean | undefined, packs?: number) {
  const q: Questionnaire = { resourceType: 'Questionnaire', url: `${URL}/${++n}`, status: 'active', item: items };
  validator.registry.addQuestionnaire(q);
  const item = [
    ...(smoker === undefined ? [] : [{ linkId: 'smoker', answer: [{ valueBoolean: smoker }] }]),
    ...(packs === undefined ? [] : [{ linkId: 'packs', answer: [{ valueInteger: packs }] }]),
  ];
  return validator.validate({ resourceType: 'QuestionnaireResponse', questionnaire: q.url, status: 'completed', ...(item.length ? { item } : {}) });
}
const bySeverity = (severity: string, issues: ReturnType<typeof check>) =>
  issues.filter((i) => i.severity === severity).map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
const errors = (issues: ReturnType<typeof check>) => bySeverity('error', issues);
const warnings = (issues: ReturnType<typeof check>) => bySeverity('warning', issues);

const DISABLED = "QuestionnaireResponse.item[1]: Item has answer, even though it is not enabled (item id = 'packs')";

describe('enableWhenExpression', () => {
  it('an item the expression disables must not be answered; one it enables may be', () => {
    const items = withExpression("%resource.repeat(item).where(linkId = 'smoker').answer.value = true");
    expect(errors(check(items, false, 10))).toEqual([DISABLED]);
    expect(errors(check(items, true, 10))).toEqual([]);
  });

  it('evaluates descendants() and a leading type name on the response itself', () => {
    const items = withExpression("QuestionnaireResponse.descendants().where(linkId = 'smoker').answer.value.ofType(boolean)");
    expect(errors(check(items, false, 10))).toEqual([DISABLED]);
    expect(errors(check(items, true, 10))).toEqual([]);
  });

  it('an empty result is false (SDC): the item is disabled', () => {
    const items = withExpression("%resource.item.where(linkId = 'smoker').answer.value.where($this = true)");
    expect(errors(check(items, undefined, 10))).toEqual([DISABLED.replace('item[1]', 'item[0]')]);
  });

  it('%context is the response item the Questionnaire item is about', () => {
    expect(errors(check(withExpression("%context.linkId = 'packs'"), false, 10))).toEqual([]);
    expect(errors(check(withExpression("%context.linkId = 'smoker'"), false, 10))).toEqual([DISABLED]);
  });

  it('a required item the expression disables need not be answered', () => {
    const items = withExpression("%resource.item.where(linkId = 'smoker').answer.value = true", 'text/fhirpath', true);
    expect(errors(check(items, false))).toEqual([]);
    expect(errors(check(items, true))).toEqual(["QuestionnaireResponse: No response answer found for required item 'packs'"]);
  });

  it("variables of the Questionnaire and of the item's ancestors are in scope, inner ones shadowing outer ones", () => {
    const variable = (name: string, expression: string) => ({ url: 'http://hl7.org/fhir/StructureDefinition/variable', valueExpression: { name, language: 'text/fhirpath' as const, expression } });
    const smokes = "%resource.item.where(linkId = 'smoker').answer.value";
    const group = (outer: string): Questionnaire => ({
      resourceType: 'Questionnaire',
      url: `${URL}/${++n}`,
      status: 'active',
      extension: [variable('smokes', outer)],
      item: [
        { linkId: 'smoker', type: 'boolean' },
        {
          linkId: 'g',
          type: 'group',
          extension: [variable('smokes', smokes)],
          item: [{ linkId: 'packs', type: 'integer', extension: [{ url: SDC, valueExpression: { language: 'text/fhirpath', expression: '%smokes = true' } }] }],
        },
      ],
    });
    const answer = (q: Questionnaire, smoker: boolean) => {
      validator.registry.addQuestionnaire(q);
      return validator.validate({
        resourceType: 'QuestionnaireResponse',
        questionnaire: q.url,
        status: 'completed',
        item: [{ linkId: 'smoker', answer: [{ valueBoolean: smoker }] }, { linkId: 'g', item: [{ linkId: 'packs', answer: [{ valueInteger: 5 }] }] }],
      });
    };
    // the group's own %smokes wins over the Questionnaire's constant
    expect(errors(answer(group('true'), false))).toEqual(["QuestionnaireResponse.item[1].item[0]: Item has answer, even though it is not enabled (item id = 'packs')"]);
    expect(errors(answer(group('false'), true))).toEqual([]);
  });

  it('a variable with several values cannot be held: an expression that uses it is a warning', () => {
    const items = withExpression('%linkIds.count() = 2');
    const q: Questionnaire = {
      resourceType: 'Questionnaire',
      url: `${URL}/${++n}`,
      status: 'active',
      extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/variable', valueExpression: { name: 'linkIds', language: 'text/fhirpath', expression: '%resource.item.linkId' } }],
      item: items,
    };
    validator.registry.addQuestionnaire(q);
    const issues = validator.validate({
      resourceType: 'QuestionnaireResponse',
      questionnaire: q.url,
      status: 'completed',
      item: [{ linkId: 'smoker', answer: [{ valueBoolean: true }] }, { linkId: 'packs', answer: [{ valueInteger: 5 }] }],
    });
    expect(errors(issues)).toEqual([]);
    expect(warnings(issues)).toEqual([expect.stringMatching(/variable %linkIds has 2 values, and only single values are supported/)]);
  });

  it('an expression that cannot be evaluated is a warning, and the item counts as enabled', () => {
    for (const [expression, language, why] of [
      ["%resource.item.where(linkId = 'smoker').answer.value.toString().trim() = 'true'", 'text/fhirpath', /trim\(\), which the FHIRPath engine does not implement/],
      ['%undeclared = true', 'text/fhirpath', /it failed/],
      ['%resource.item.linkId', 'text/fhirpath', /did not return a boolean/],
      ['Smoker', 'text/cql', /its language is text\/cql/],
    ] as const) {
      const issues = check(withExpression(expression, language), false, 10);
      expect(errors(issues)).toEqual([]);
      expect(warnings(issues)).toEqual([expect.stringMatching(/^QuestionnaireResponse.item\[1\]: The enableWhenExpression of item 'packs' was not evaluated: /)]);
      expect(warnings(issues)[0]).toMatch(why);
    }
  });
});

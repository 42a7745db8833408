import type { Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isProfileIssue } from './issues.js';
import { compareQuantities } from './quantities.js';
import { createR4Validator } from './validator.js';

// A QuestionnaireResponse against its Questionnaire (questionnaireresponse.html#link,
// questionnaire.html), with the HL7 validator's QuestionnaireValidator as the reference.

const URL = 'https://stepwise.example/fhir/Questionnaire/test';
const EXT = 'http://hl7.org/fhir/StructureDefinition/';
const validator = createR4Validator();

function check(items: QuestionnaireItem[], responseItems: unknown[], status = 'completed') {
  const q: Questionnaire = { resourceType: 'Questionnaire', url: `${URL}/${items.map((i) => i.linkId).join('-')}-${Math.random()}`, status: 'active', item: items };
  validator.registry.addQuestionnaire(q);
  return validator.validate({ resourceType: 'QuestionnaireResponse', questionnaire: q.url, status, ...(responseItems.length ? { item: responseItems } : {}) });
}
const errors = (issues: ReturnType<typeof check>) => issues.filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
const str = (linkId: string, ...values: string[]) => ({ linkId, answer: values.map((valueString) => ({ valueString })) });

describe('QuestionnaireResponse items against the Questionnaire', () => {
  it('accepts a response that answers what the questionnaire asks', () => {
    expect(errors(check([{ linkId: 'q1', type: 'string', required: true }], [str('q1', 'yes')]))).toEqual([]);
  });

  it('a linkId the questionnaire does not define is an error, and one at the wrong level is named as such', () => {
    const items: QuestionnaireItem[] = [{ linkId: 'g', type: 'group', item: [{ linkId: 'q1', type: 'string' }] }];
    expect(errors(check(items, [str('nope', 'x')]))).toEqual(["QuestionnaireResponse.item[0]: LinkId 'nope' not found in questionnaire"]);
    expect(errors(check(items, [str('q1', 'x')]))[0]).toMatch(/^QuestionnaireResponse.item\[0\]: Structural Error: item 'q1' is in the wrong place/);
  });

  it('a required item must be answered (a warning while the response is in progress); a required group needs items', () => {
    const items: QuestionnaireItem[] = [
      { linkId: 'q1', type: 'string', required: true },
      { linkId: 'g', type: 'group', required: true, item: [{ linkId: 'q2', type: 'string' }] },
    ];
    expect(errors(check(items, [{ linkId: 'q1' }, { linkId: 'g', item: [str('q2', 'a')] }]))).toEqual([
      "QuestionnaireResponse: No response answer found for required item 'q1'",
    ]);
    expect(errors(check(items, [str('q1', 'a')]))).toEqual(["QuestionnaireResponse: No response answer found for required item 'g'"]);
    const inProgress = check(items, [], 'in-progress');
    expect(errors(inProgress)).toEqual([]);
    expect(inProgress.filter((i) => i.severity === 'warning')).toHaveLength(2);
  });

  it('one answer unless the item repeats; group and display items take no answers; a question holds items only in answers', () => {
    expect(errors(check([{ linkId: 'q1', type: 'string' }], [str('q1', 'a', 'b')]))).toEqual([
      'QuestionnaireResponse.item[0]: Only one response answer item with this linkId allowed',
    ]);
    expect(errors(check([{ linkId: 'q1', type: 'string', repeats: true }], [str('q1', 'a', 'b')]))).toEqual([]);
    expect(errors(check([{ linkId: 'd', type: 'display' }], [str('d', 'a')]))).toEqual(["QuestionnaireResponse.item[0]: Items of type 'display' cannot have answers"]);
    expect(errors(check([{ linkId: 'g', type: 'group' }], [str('g', 'a')]))).toEqual(['QuestionnaireResponse.item[0]: Items of type group should not have answers']);
    const nested: QuestionnaireItem[] = [{ linkId: 'q1', type: 'boolean', item: [{ linkId: 'why', type: 'string' }] }];
    expect(errors(check(nested, [{ linkId: 'q1', answer: [{ valueBoolean: true, item: [str('why', 'because')] }] }]))).toEqual([]);
    expect(errors(check(nested, [{ linkId: 'q1', item: [str('why', 'x')] }]))[0]).toMatch(/holds items directly/);
  });

  it('enableWhen: a disabled item must not be answered, and is not required', () => {
    const items: QuestionnaireItem[] = [
      { linkId: 'smoker', type: 'boolean' },
      { linkId: 'packs', type: 'integer', required: true, enableWhen: [{ question: 'smoker', operator: '=', answerBoolean: true }] },
    ];
    const smoker = (valueBoolean: boolean) => ({ linkId: 'smoker', answer: [{ valueBoolean }] });
    expect(errors(check(items, [smoker(false)]))).toEqual([]);
    expect(errors(check(items, [smoker(true)]))).toEqual(["QuestionnaireResponse: No response answer found for required item 'packs'"]);
    expect(errors(check(items, [smoker(false), { linkId: 'packs', answer: [{ valueInteger: 2 }] }]))).toEqual([
      "QuestionnaireResponse.item[1]: Item has answer, even though it is not enabled (item id = 'packs')",
    ]);
    const any: QuestionnaireItem = { ...items[1], enableBehavior: 'any', enableWhen: [{ question: 'smoker', operator: 'exists', answerBoolean: true }, { question: 'smoker', operator: '=', answerBoolean: true }] };
    expect(errors(check([items[0], any], [smoker(false)]))).toEqual(["QuestionnaireResponse: No response answer found for required item 'packs'"]);
  });

  it('an answer has the type of its item', () => {
    expect(errors(check([{ linkId: 'd', type: 'date' }], [{ linkId: 'd', answer: [{ valueCoding: { code: 'x' } }] }]))).toEqual([
      'QuestionnaireResponse.item[0].answer[0].value.ofType(Coding): Answer value must be of the type date not Coding',
    ]);
    expect(errors(check([{ linkId: 'u', type: 'url' }], [{ linkId: 'u', answer: [{ valueString: 'x' }] }]))[0]).toMatch(/must be of the type uri not string/);
    expect(errors(check([{ linkId: 't', type: 'text' }], [str('t', 'long text')]))).toEqual([]);
  });

  it('answers come from answerOption (open-choice also takes other values), and an exclusive option stands alone', () => {
    const option = (code: string, exclusive = false) => ({
      valueCoding: { system: 'http://example.org', code },
      ...(exclusive ? { extension: [{ url: `${EXT}questionnaire-optionExclusive`, valueBoolean: true }] } : {}),
    });
    const choice: QuestionnaireItem = { linkId: 'c', type: 'choice', repeats: true, answerOption: [option('a'), option('none', true)] };
    const coded = (...codes: string[]) => ({ linkId: 'c', answer: codes.map((code) => ({ valueCoding: { system: 'http://example.org', code } })) });
    expect(errors(check([choice], [coded('a')]))).toEqual([]);
    expect(errors(check([choice], [coded('b')]))).toEqual(['QuestionnaireResponse.item[0].answer[0].value.ofType(Coding): The code http://example.org::b is not in the set of permitted values']);
    expect(errors(check([{ ...choice, type: 'open-choice' }], [coded('b')]))).toEqual([]);
    expect(errors(check([choice], [coded('a', 'none')]))[0]).toMatch(/^QuestionnaireResponse.item\[0\].answer\[1\]: Selected answer http:\/\/example.org#none is an exclusive option/);
    const ints: QuestionnaireItem = { linkId: 'i', type: 'choice', answerOption: [{ valueInteger: 1 }, { valueInteger: 2 }] };
    expect(errors(check([ints], [{ linkId: 'i', answer: [{ valueInteger: 3 }] }]))).toEqual(['QuestionnaireResponse.item[0].answer[0].value.ofType(integer): The integer 3 is not in the set of permitted values']);
    expect(errors(check([ints], [str('i', 'two')]))).toEqual(['QuestionnaireResponse.item[0].answer[0].value.ofType(string): Option list has no option values of type string']);
  });

  it('a Coding from answerValueSet must be in it, with its own display', () => {
    const item: QuestionnaireItem = { linkId: 'g', type: 'choice', answerValueSet: 'http://hl7.org/fhir/ValueSet/administrative-gender' };
    const coding = (code: string, display?: string) => [{ linkId: 'g', answer: [{ valueCoding: { system: 'http://hl7.org/fhir/administrative-gender', code, ...(display ? { display } : {}) } }] }];
    expect(errors(check([item], coding('female', 'Female')))).toEqual([]);
    expect(errors(check([item], coding('girl'))).some((e) => /The code 'girl' .* is not in the options value set/.test(e))).toBe(true);
    expect(errors(check([item], coding('female', 'Male')))[0]).toMatch(/Wrong Display Name 'Male'/);
  });

  it('answerValueSet over ISO 3166 (jurisdiction): a country Coding with its own name; a string item takes a code, not a name', () => {
    const JURISDICTION = 'http://hl7.org/fhir/ValueSet/jurisdiction';
    const country = (code: string, display: string) => ({ valueCoding: { system: 'urn:iso:std:iso:3166', code, display } });
    const choice: QuestionnaireItem = { linkId: 'c', type: 'choice', repeats: true, answerValueSet: JURISDICTION };
    expect(errors(check([choice], [{ linkId: 'c', answer: [country('AU', 'Australia'), country('GB', 'United Kingdom of Great Britain and Northern Ireland')] }]))).toEqual([]);
    expect(errors(check([choice], [{ linkId: 'c', answer: [country('AU', 'Australia'), country('BD', 'Australia')] }]))).toEqual([
      "QuestionnaireResponse.item[0].answer[1].value.ofType(Coding): The code 'BD' in the system 'urn:iso:std:iso:3166' is not in the options value set (Jurisdiction) specified by the questionnaire: Wrong Display Name 'Australia' for urn:iso:std:iso:3166#BD. Valid display is 'Bangladesh'",
    ]);
    // The HL7 validator asks whether a string item's answer is a code of the value set.
    const text: QuestionnaireItem = { linkId: 's', type: 'string', repeats: true, answerValueSet: JURISDICTION };
    expect(errors(check([text], [str('s', 'AU', 'Australia')]))).toEqual([
      `QuestionnaireResponse.item[0].answer[1].value.ofType(string): The value 'Australia' is not in the list of allowed values (value set '${JURISDICTION}')`,
    ]);
    // … and does not check a choice item's string answer against it (a hint that it has no options).
    expect(errors(check([{ ...choice, repeats: false }], [str('c', 'Australia')]))).toEqual([]);
  });

  it('limits from the core extensions: minValue/maxValue, maxDecimalPlaces, minLength/maxLength/regex, min/maxOccurs', () => {
    const ext = (name: string, value: Record<string, unknown>) => ({ url: `${EXT}${name}`, ...value });
    const age: QuestionnaireItem = { linkId: 'n', type: 'integer', extension: [ext('minValue', { valueInteger: 18 }), ext('maxValue', { valueInteger: 65 })] };
    expect(errors(check([age], [{ linkId: 'n', answer: [{ valueInteger: 40 }] }]))).toEqual([]);
    expect(errors(check([age], [{ linkId: 'n', answer: [{ valueInteger: 17 }] }]))[0]).toMatch(/The value 17 is less than the allowed minimum of 18/);
    const when: QuestionnaireItem = { linkId: 'd', type: 'date', extension: [ext('maxValue', { valueDate: '2022-06' })] };
    expect(errors(check([when], [{ linkId: 'd', answer: [{ valueDate: '2022-07-01' }] }]))[0]).toMatch(/greater than the allowed maximum of 2022-06/);
    const dec: QuestionnaireItem = { linkId: 'x', type: 'decimal', extension: [ext('maxDecimalPlaces', { valueInteger: 2 })] };
    expect(errors(check([dec], [{ linkId: 'x', answer: [{ valueDecimal: 1.234 }] }]))[0]).toMatch(/too many decimal places \(limit = 2\)/);
    const text: QuestionnaireItem = { linkId: 's', type: 'string', maxLength: 5, extension: [ext('minLength', { valueInteger: 2 }), ext('regex', { valueString: '[a-z]+' })] };
    expect(errors(check([text], [str('s', 'abc')]))).toEqual([]);
    expect(errors(check([text], [str('s', 'a')]))[0]).toMatch(/shorter than the required minimum length of 2/);
    expect(errors(check([text], [str('s', 'abcdef')]))[0]).toMatch(/longer than the allowed maximum length of 5/);
    expect(errors(check([text], [str('s', 'ab1')]))[0]).toMatch(/does not conform to the expected format/);
    const occurs: QuestionnaireItem = { linkId: 'o', type: 'string', repeats: true, extension: [ext('questionnaire-minOccurs', { valueInteger: 2 }), ext('questionnaire-maxOccurs', { valueInteger: 3 })] };
    expect(errors(check([occurs], [str('o', 'a', 'b')]))).toEqual([]);
    expect(errors(check([occurs], [str('o', 'a')]))[0]).toMatch(/minimum number of answers is 2 but this has 1/);
    expect(errors(check([occurs], [str('o', 'a', 'b', 'c', 'd')]))[0]).toMatch(/maximum number of answers is 3 but this has 4/);
  });

  it('quantities: units from unitOption, limits compared in UCUM, and uncoded units cannot be compared', () => {
    const ucum = (value: number, code: string) => ({ value, unit: code, system: 'http://unitsofmeasure.org', code });
    const item: QuestionnaireItem = {
      linkId: 'q',
      type: 'quantity',
      extension: [
        { url: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-maxQuantity', valueQuantity: ucum(5, 'km') },
        { url: `${EXT}questionnaire-unitOption`, valueCoding: { system: 'http://unitsofmeasure.org', code: 'm' } },
        { url: `${EXT}questionnaire-unitOption`, valueCoding: { system: 'http://unitsofmeasure.org', code: 'km' } },
      ],
    };
    const answer = (valueQuantity: unknown) => [{ linkId: 'q', answer: [{ valueQuantity }] }];
    expect(errors(check([item], answer(ucum(4000, 'm'))))).toEqual([]);
    expect(errors(check([item], answer(ucum(6000, 'm'))))[0]).toMatch(/greater than the allowed maximum of 5 km/);
    expect(errors(check([item], answer(ucum(1, 'kg'))))).toHaveLength(2); // not comparable, and not an allowed unit
    expect(errors(check([item], answer({ value: 1, unit: 'km' }))).some((e) => /no formal units/.test(e))).toBe(true);
    expect(compareQuantities(ucum(1, 'km'), ucum(1000, 'm'))).toBe(0);
    expect(compareQuantities(ucum(1, '[mi_i]'), ucum(1, 'km'))).toBe(1);
    expect(compareQuantities(ucum(1, 'kg'), ucum(1, 'km'))).toBe('incompatible');
  });

  it('attachments and references: mimeType, maxSize, the stated size, referenceResource and known resource types', () => {
    const att: QuestionnaireItem = {
      linkId: 'a',
      type: 'attachment',
      extension: [
        { url: `${EXT}mimeType`, valueCode: 'image/png' },
        { url: `${EXT}maxSize`, valueDecimal: 4 },
      ],
    };
    const attachment = (valueAttachment: unknown) => [{ linkId: 'a', answer: [{ valueAttachment }] }];
    expect(errors(check([att], attachment({ contentType: 'image/png', data: 'AAEC', size: 3 })))).toEqual([]);
    expect(errors(check([att], attachment({ contentType: 'application/pdf', data: 'AAEC' })))[0]).toMatch(/mime type application\/pdf is not valid/);
    expect(errors(check([att], attachment({ contentType: 'image/png', data: 'AAECAwQF' })))[0]).toMatch(/too large \(allowed = 4, found = 6\)/);
    expect(errors(check([att], attachment({ contentType: 'image/png', data: 'AAEC', size: 30 })))[0]).toMatch(/Stated Attachment Size 30 does not match actual attachment size 3/);
    const ref: QuestionnaireItem = { linkId: 'r', type: 'reference', extension: [{ url: `${EXT}questionnaire-referenceResource`, valueCode: 'Patient' }] };
    const reference = (r: string) => [{ linkId: 'r', answer: [{ valueReference: { reference: r } }] }];
    expect(errors(check([ref], reference('Patient/1')))).toEqual([]);
    expect(errors(check([ref], reference('Organization/1')))[0]).toMatch(/'Organization' in the reference Organization\/1 is not allowed \(allowed = Patient\)/);
    expect(errors(check([ref], reference('https://example.org/Chicken/1')))[0]).toMatch(/resource type Chicken .* is not valid/);
  });

  it('an unknown questionnaire is a warning; issues against the questionnaire are profile issues', () => {
    const unknown = validator.validate({ resourceType: 'QuestionnaireResponse', questionnaire: 'https://nowhere.example/Q', status: 'completed' });
    expect(unknown.map((i) => i.severity)).toEqual(['warning']);
    const issues = check([{ linkId: 'q1', type: 'string', required: true }], []);
    expect(issues.filter((i) => i.severity === 'error').every(isProfileIssue)).toBe(true);
  });
});

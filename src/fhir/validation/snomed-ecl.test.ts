import { describe, expect, it } from 'vitest';
import { eclSyntaxProblem } from './snomed-ecl.js';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/**
 * ECL syntax (snomed-ecl.ts). The valid expressions are the examples of the ECL 2.x specification
 * (http://snomed.org/ecl, chapter 6 "Examples"), a few written in the long syntax; the malformed
 * ones break one rule of the ABNF each.
 */

const VALID = [
  // Simple constraints
  '404684003 |Clinical finding|',
  '< 404684003 |Clinical finding|',
  '<< 73211009 |Diabetes mellitus|',
  '> 40541001 |Acute pulmonary edema|',
  '>>40541001|Acute pulmonary edema|',
  '<! 404684003 |Clinical finding|',
  '<<! 404684003 |Clinical finding|',
  '>! 40541001 |Acute pulmonary edema|',
  '>>! 40541001 |Acute pulmonary edema|',
  '^ 700043003 |Example problem list concepts reference set |',
  '*',
  '<< LOINC#54486-6',
  '!!> ( < 386617003 |Digestive system finding| . 363698007 |Finding site| )',
  '!!< ( >> 427089005 |Diabetes mellitus due to cystic fibrosis| AND ^ 816080008 |International Patient Summary| )',
  '<< ^700043003 |Example problem list concepts reference set|',
  // Refinements, groups, cardinality, reverse attributes, concrete values
  '< 19829001 |Disorder of lung|: 116676008 |Associated morphology| = << 79654002 |Edema|',
  '< 404684003 |Clinical finding|: 363698007 |Finding site| = << 39057004 |Pulmonary valve structure|, 116676008 |Associated morphology| = << 415582006 |Stenosis|',
  '* : 246075003 |Causative agent| = 387517004 |Paracetamol|',
  '< 404684003 |Clinical finding|: { 363698007 |Finding site| = << 39057004 |Pulmonary valve structure|, 116676008 |Associated morphology| = << 415582006 |Stenosis| }, { 363698007 |Finding site| = << 53085002 |Right atrial structure|, 116676008 |Associated morphology| = << 56246009 |Hypertrophy| }',
  '<< 404684003 |Clinical finding|: << 47429007 |Associated with| = << 267038008 |Edema|',
  '< 27658006 |Amoxicillin|: 411116001 |Has dose form| = << 385049006 |Capsule|, { 111115 |Has basis of strength| = ( 111115 |Amoxicillin only|: 111115 |Strength magnitude| >= #500, 111115 |Strength unit| = 258684004 |mg| ) }',
  '< 373873005 |Pharmaceutical / biologic product|: 111115 |Trade name| = "PANADOL"',
  '< 373873005 |Pharmaceutical / biologic product|: 859999999102 |Is in national benefit scheme| = TRUE',
  '< 105590001 |Substance|: R 127489000 |Has active ingredient| = 111115 |TRIPHASIL tablet|',
  '< 404684003 |Clinical finding|: [2..*] 363698007 |Finding site| = < 91723000 |Anatomical structure|',
  '< 373873005 |Pharmaceutical / biologic product|: [1..*] { [1..*] 127489000 |Has active ingredient| = < 105590001 |Substance| }',
  '< 105590001 |Substance| : [3..3] R 127489000 |Has active ingredient| = *',
  // Dotted attributes
  '< 125605004 |Fracture of bone| . 363698007 |Finding site|',
  '< 19829001 |Disorder of lung| . < 47429007 |Associated with| . 363698007 |Finding site|',
  '( ( < 19829001 |Disorder of lung| ) . < 47429007 |Associated with| ) . 363698007 |Finding site|',
  // Conjunction, disjunction, exclusion, nesting
  '< 19829001 |Disorder of lung| AND < 301867009 |Edema of trunk|',
  '< 19829001 |Disorder of lung| OR < 301867009 |Edema of trunk|',
  '(< 19829001 |Disorder of lung| AND < 301867009 |Edema of trunk|) OR ^ 700043003 |Example problem list concepts reference set|',
  '< 404684003 |Clinical finding|: 116676008 |Associated morphology| = << 55641003 |Infarct| OR 42752001 |Due to| = << 22298006 |Myocardial infarction|',
  '< 404684003 |Clinical finding|: ( 363698007 |Finding site| = << 39057004 |Pulmonary valve structure| AND 116676008 |Associated morphology| = << 415582006 |Stenosis| ) OR 42752001 |Due to| = << 44523800 |Hypertension|',
  '< 404684003 |Clinical finding|: { 363698007 |Finding site| = << 39057004 |Pulmonary valve structure|, 116676008 |Associated morphology| = << 415582006 |Stenosis|} OR { 363698007 |Finding site| = << 53085002 |Right atrial structure| }',
  '<< 19829001 |Disorder of lung| MINUS << 301867009 |Edema of trunk|',
  '< 404684003 |Clinical finding|: 116676008 |Associated morphology| = ( ( << 56208002 |Ulcer| AND << 50960005 |Hemorrhage| ) MINUS << 26036001 |Obstruction| )',
  '< 404684003 |Clinical finding|: [0..0] 116676008 |Associated morphology| != << 26036001 |Obstruction| and [1..*] 116676008 |Associated morphology| = << 26036001 |Obstruction|',
  '/* Disorders of lung */ < 19829001 |Disorder of lung| : /* with edema */ 116676008 |Associated morphology| = << 79654002 |Edema|',
  '^ ( < 450973005 |GP/FP health issue reference set| )',
  '( << 404684003 |Clinical finding (finding)| OR << 272379006 |Event (event)| ): 255234002 |After| = << 71388002 |Procedure (procedure)|',
  '<< 125605004 |Fracture of bone| : [0..0] ( ( << 410662002 |Concept model attribute| MINUS 363698007 |Finding site| ) MINUS 116676008 |Associated morphology| ) = *',
  '< 404684003 |Clinical finding| : 47429007 |Associated with| = ( < 404684003 |Clinical finding| : 116676008 |Associated morphology| = << 55641003 |Infarct| )',
  '<<404684003:363698007=<<123037004,116676008=<<415582006',
  // Filters and history supplements
  '< 64572001 |Disease| {{ term = "heart att" }}',
  '< 64572001 |Disease| {{ term = (match:"gas" wild:"*itis") }} {{ term = "eye" }}',
  '< 56265001 |Heart disease| {{ term = "hjärta", language = sv, typeId = 900000000000013009 |Synonym| }}',
  '< 125605004 |Fracture of bone| {{ C effectiveTime >= "20190731" }}',
  '^ [targetComponentId] 900000000000527005 |SAME AS association reference set| {{ M referencedComponentId = 67415000 |Hay asthma| }}',
  '<< 195967001 |Asthma| {{ + HISTORY-MIN }}',
  '<< 195967001 |Asthma| {{ + HISTORY ( 900000000000527005 |SAME AS association reference set| ) }}',
  // Long syntax
  'descendantOrSelfOf 73211009 |Diabetes mellitus|',
  'memberOf 700043003 |Example problem list concepts reference set|',
  '< 404684003 |Clinical finding|: [1 to many] 363698007 |Finding site| = ANY',
  '< 404684003 |Clinical finding|: 116676008 |Associated morphology| NOT = << 26036001 |Obstruction|',
];

describe('ECL syntax', () => {
  it.each(VALID)('accepts %s', (ecl) => {
    expect(eclSyntaxProblem(ecl)).toBeUndefined();
  });

  it.each([
    ['234234 << 234234', "unexpected '<< 234234' at character 8"],
    ['', 'expected a concept at character 1'],
    ['<< ', 'expected a concept at character 4'],
    ['12345', "the concept id '12345' does not have 6 to 18 digits at character 1"],
    ['0123456', "the concept id '0123456' starts with 0 at character 1"],
    ['< 404684003 |Clinical finding', 'the term has no closing | at character 13'],
    ['< 19829001 AND < 301867009 OR < 40541001', 'OR after AND needs brackets at character 28'],
    ['< 19829001 MINUS < 301867009 MINUS < 40541001', 'MINUS takes two operands; use brackets at character 30'],
    ['< 404684003 : 363698007 << 39057004', "'<' compares numbers: expected # at character 26"],
    ['(< 404684003', "expected ')' at character 13"],
    ['< 404684003)', "unexpected ')' at character 12"],
    ['< 404684003 : { 363698007 = * ', "expected '}' at character 31"],
    ['< 404684003 : { 363698007 = *, 116676008 = * OR 42752001 = * }', 'OR after AND in an attribute group needs brackets at character 46'],
    ['< 64572001 {{ term = "heart" ', 'the filter {{ is not closed at character 12'],
    ['< 64572001 {{ }}', 'the filter {{ }} is empty at character 15'],
    ['< 373873005 : [1..] 127489000 = *', 'expected the maximum of a cardinality at character 19'],
    ['< 27658006 : 111115 >= #', 'expected a number after # at character 25'],
    ['< 373873005 : 111115 = "PANADOL', 'the string is not closed at character 24'],
    ['/* unfinished < 404684003', 'the comment is not closed at character 1'],
    ['< << 404684003', "expected a concept, not '<< 404684003' at character 3"],
    ['< 404684003 : 363698007 = * MINUS 116676008 = *', "unexpected 'MINUS 116676…' at character 29"],
    ['<<404684003:363698007=<<123037004and116676008=<<415582006', "unexpected 'and116676008…' at character 34"],
    ['<< 404684003 . 363698007 = *', "unexpected '= *' at character 26"],
  ])('refuses %s', (ecl, problem) => {
    expect(eclSyntaxProblem(ecl)).toBe(problem);
  });
});

describe('ECL syntax, effort', () => {
  it('reads deeply bracketed refinements without blowing up, and does not judge what is nested beyond the stack', () => {
    const nested = (n: number) => `< 404684003 : ${'((363698007 = *, '.repeat(n)}116676008 = *${'))'.repeat(n)}`;
    expect(eclSyntaxProblem(nested(40))).toBeUndefined();
    expect(eclSyntaxProblem(`${nested(40)})`)).toMatch(/^unexpected '\)' at character/);
    expect(eclSyntaxProblem(`${'('.repeat(100_000)}404684003${')'.repeat(100_000)}`)).toBeUndefined();
  });
});

describe('ValueSet filters in ECL on SNOMED CT', () => {
  const validator = createR4Validator();
  const valueSet = (compose: unknown) => ({ resourceType: 'ValueSet', url: 'https://example.net/vs/ecl', status: 'active', compose });
  const eclFilter = (value: string, property = 'constraint') => ({ system: 'http://snomed.info/sct', filter: [{ property, op: '=', value }] });

  it('reports malformed ECL in a constraint filter at the filter, in include and exclude', () => {
    const vs = valueSet({ include: [eclFilter('234234 << 234234')], exclude: [eclFilter('<< 404684003 OR')] });
    expect(summary(errors(validator.validate(vs)))).toEqual([
      "error ValueSet.compose.include[0].filter[0]: The value '234234 << 234234' for the filter constraint is invalid: Invalid ECL: '234234 << 234234' - parse error (unexpected '<< 234234' at character 8)",
      "error ValueSet.compose.exclude[0].filter[0]: The value '<< 404684003 OR' for the filter constraint is invalid: Invalid ECL: '<< 404684003 OR' - parse error (expected a concept at character 16)",
    ]);
  });

  it("checks R4's SNOMED CT 'expression' filter too", () => {
    const vs = valueSet({ include: [eclFilter('< 404684003 :', 'expression')] });
    expect(summary(errors(validator.validate(vs)))).toHaveLength(1);
  });

  it('accepts valid ECL, and leaves other properties, operators and systems alone', () => {
    const vs = valueSet({
      include: [
        eclFilter('< 404684003 |Clinical finding|: 363698007 |Finding site| = << 39057004 |Pulmonary valve structure|'),
        { system: 'http://snomed.info/sct', filter: [{ property: 'concept', op: 'is-a', value: '404684003' }, { property: 'expressions', op: '=', value: 'false' }] },
        { system: 'https://example.net/cs/other', filter: [{ property: 'constraint', op: '=', value: 'not ECL' }] },
      ],
    });
    expect(summary(errors(validator.validate(vs)))).toEqual([]);
  });
});

import type { CodeSystemConcept, Coding, QuestionnaireItem, QuestionnaireItemAnswerOption } from '@medplum/fhirtypes';
import { compareQuantities } from './quantities.js';
import { compareValues, extensionsOf, type QRAnswer, type Run, type TypedChoice, valueOf } from './questionnaire-response.js';

/**
 * One answer of a QuestionnaireResponse item against its Questionnaire item: the answer's type for
 * the item's type (questionnaire.html#answer, valueset-item-type.html), its options, and the limits
 * the core extensions put on it (minValue, maxValue, minLength, regex, maxDecimalPlaces, mimeType,
 * maxSize, unitOption, unitValueSet, referenceResource, optionExclusive), as the HL7 validator
 * checks them.
 */

const EXT = 'http://hl7.org/fhir/StructureDefinition/';
const SDC = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/';

/** Answer types allowed for each item type (R4 QuestionnaireResponse.item.answer.value[x]). */
const answerTypes: Record<string, string[]> = {
  boolean: ['Boolean'],
  decimal: ['Decimal'],
  integer: ['Integer'],
  date: ['Date'],
  dateTime: ['DateTime'],
  time: ['Time'],
  string: ['String'],
  text: ['String'],
  url: ['Uri'],
  attachment: ['Attachment'],
  reference: ['Reference'],
  quantity: ['Quantity'],
  choice: ['Coding', 'Date', 'Time', 'Integer', 'String'],
  'open-choice': ['Coding', 'Date', 'Time', 'Integer', 'String'],
};

const typeName = (suffix: string): string => (/^[A-Z][a-z]/.test(suffix) && !['Coding', 'Quantity', 'Reference', 'Attachment'].includes(suffix) ? suffix[0].toLowerCase() + suffix.slice(1) : suffix);

export function answerValueChecks(run: Run, qItem: QuestionnaireItem, answer: QRAnswer, path: string, all: QRAnswer[]): void {
  const allowed = answerTypes[qItem.type];
  const value = valueOf(answer, 'value');
  if (!allowed || !value) return;
  const valuePath = `${path}.value.ofType(${typeName(value.type)})`;
  if (!allowed.includes(value.type)) {
    const expected = allowed.length === 1 ? typeName(allowed[0]) : allowed.map(typeName).join(', ');
    run.ctx.issues.error('structure', valuePath, `Answer value must be of the type ${expected} not ${typeName(value.type)}`);
    return;
  }
  const openChoice = qItem.type === 'open-choice';
  if (value.type === 'Coding') checkCoding(run, qItem, value.value as Coding, valuePath, openChoice, all);
  else if (qItem.answerOption?.length) checkOption(run, qItem, value, valuePath, openChoice);
  else if (qItem.answerValueSet && qItem.type === 'string' && value.type === 'String') checkStringInValueSet(run, qItem, value.value as string, valuePath);
  checkLimits(run, qItem, value, valuePath);
}

function checkCoding(run: Run, qItem: QuestionnaireItem, coding: Coding, path: string, openChoice: boolean, all: QRAnswer[]): void {
  const issues = run.ctx.issues;
  if (qItem.answerValueSet) {
    const expansion = run.terminology.expand(qItem.answerValueSet);
    if (!expansion || typeof coding?.code !== 'string') return;
    const member = expansion.has(coding.system, coding.code);
    const wrongDisplay = member === true ? displayProblem(run, coding) : undefined;
    if (member === false || wrongDisplay) {
      // The HL7 validator asks its terminology service whether the Coding is valid in the options
      // value set; a display that is not the code's counts against it as well.
      const say = `The code '${coding.code}' in the system '${coding.system}' is not in the options value set (${expansion.title || qItem.answerValueSet}) specified by the questionnaire${wrongDisplay ? `: ${wrongDisplay}` : ''}`;
      // Open choice admits other codes, but not a known code with a display that is not its own.
      if (openChoice && !wrongDisplay) issues.warning('code-invalid', path, say);
      else issues.error('code-invalid', path, say);
    }
    return;
  }
  const options = (qItem.answerOption ?? []).filter((o) => o.valueCoding);
  if (!qItem.answerOption?.length) return;
  if (options.length === 0) {
    issues.error('structure', path, 'Option list has no option values of type coding');
    return;
  }
  const chosen = options.find((o) => sameCoding(o.valueCoding as Coding, coding));
  if (!chosen) {
    const say = `The code ${coding?.system ?? ''}::${coding?.code ?? ''} is not in the set of permitted values`;
    if (openChoice) issues.warning('code-invalid', path, say);
    else issues.error('code-invalid', path, say);
    return;
  }
  // questionnaire-optionExclusive: "if this option is selected, no other options may be selected".
  const exclusive = extensionsOf(chosen as never, `${EXT}questionnaire-optionExclusive`)[0]?.valueBoolean === true;
  if (exclusive && all.filter((a) => a?.valueCoding !== undefined).length > 1) {
    issues.error('business-rule', path.replace(/\.value\.ofType\(Coding\)$/, ''), `Selected answer ${coding.system}#${coding.code} is an exclusive option - can't select anything else at the same time`);
  }
}

/** A display that is neither the concept's display nor one of its designations (datatypes.html#Coding). */
function displayProblem(run: Run, coding: Coding): string | undefined {
  if (typeof coding.display !== 'string' || typeof coding.system !== 'string' || typeof coding.code !== 'string') return undefined;
  const concept = findConcept(run.registry.getCodeSystem(coding.system)?.concept, coding.code);
  if (!concept?.display) return undefined;
  const names = [concept.display, ...(concept.designation ?? []).map((d) => d.value)].map((n) => n.toLowerCase());
  if (names.includes(coding.display.toLowerCase())) return undefined;
  return `Wrong Display Name '${coding.display}' for ${coding.system}#${coding.code}. Valid display is '${concept.display}'`;
}

function findConcept(concepts: CodeSystemConcept[] | undefined, code: string): CodeSystemConcept | undefined {
  for (const c of concepts ?? []) {
    if (c.code === code) return c;
    const found = findConcept(c.concept, code);
    if (found) return found;
  }
  return undefined;
}

function sameCoding(a: Coding, b: Coding): boolean {
  return a?.code === b?.code && (a?.system ?? '') === (b?.system ?? '');
}

function checkOption(run: Run, qItem: QuestionnaireItem, value: TypedChoice, path: string, openChoice: boolean): void {
  const options = (qItem.answerOption ?? [])
    .map((o: QuestionnaireItemAnswerOption) => valueOf(o as Record<string, unknown>, 'value'))
    .filter((o): o is TypedChoice => o !== undefined && o.type === value.type);
  const name = typeName(value.type);
  if (options.length === 0) {
    // An open-choice item may take free text besides its coded options.
    if (!(openChoice && value.type === 'String')) run.ctx.issues.error('structure', path, `Option list has no option values of type ${name}`);
    return;
  }
  if (!options.some((o) => compareValues(o, value) === 0) && !openChoice) {
    run.ctx.issues.error('code-invalid', path, `The ${name} ${String(value.value)} is not in the set of permitted values`);
  }
}

/**
 * A string item with answerValueSet takes a code of the value set as its text, as the HL7 validator
 * reads it (it asks whether the string is a code of the value set, in any of its systems); a choice
 * item answered with a string is not checked against it there (only a hint that it has no options).
 */
function checkStringInValueSet(run: Run, qItem: QuestionnaireItem, text: string, path: string): void {
  const expansion = run.terminology.expand(qItem.answerValueSet as string);
  if (expansion?.hasCode(text) === false) {
    run.ctx.issues.error('code-invalid', path, `The value '${text}' is not in the list of allowed values (value set '${qItem.answerValueSet}')`);
  }
}

function checkLimits(run: Run, qItem: QuestionnaireItem, value: TypedChoice, path: string): void {
  switch (value.type) {
    case 'Integer':
    case 'Decimal':
    case 'Date':
    case 'DateTime':
    case 'Time':
      minMax(run, qItem, value, path);
      if (value.type === 'Decimal') decimalPlaces(run, qItem, value.value, path);
      break;
    case 'String':
      stringLimits(run, qItem, value.value, path);
      break;
    case 'Quantity':
      quantityLimits(run, qItem, value.value as Quantity, path);
      break;
    case 'Attachment':
      attachmentLimits(run, qItem, value.value as Attachment, path);
      break;
    case 'Reference':
      referenceTarget(run, qItem, value.value as { reference?: unknown }, path);
      break;
  }
}

/** minValue / maxValue (extension-minvalue.html): dates compare in their own precision, as strings. */
function minMax(run: Run, qItem: QuestionnaireItem, value: TypedChoice, path: string): void {
  for (const [url, sign, word] of [
    [`${EXT}minValue`, -1, 'less than the allowed minimum'],
    [`${EXT}maxValue`, 1, 'greater than the allowed maximum'],
  ] as const) {
    const limit = valueOf(extensionsOf(qItem as never, url)[0] ?? {}, 'value');
    if (!limit) continue;
    const order = compareValues(value, limit);
    if (order === sign) run.ctx.issues.error('value', path, `The value ${String(value.value)} is ${word} of ${String(limit.value)}`);
  }
}

function decimalPlaces(run: Run, qItem: QuestionnaireItem, value: unknown, path: string): void {
  const limit = extensionsOf(qItem as never, `${EXT}maxDecimalPlaces`)[0]?.valueInteger;
  if (typeof limit !== 'number' || typeof value !== 'number') return;
  const places = (String(value).split('.')[1] ?? '').length;
  if (places > limit) run.ctx.issues.error('value', path, `The value ${value} has too many decimal places (limit = ${limit})`);
}

function stringLimits(run: Run, qItem: QuestionnaireItem, value: unknown, path: string): void {
  if (typeof value !== 'string') return;
  const issues = run.ctx.issues;
  const minLength = extensionsOf(qItem as never, `${EXT}minLength`)[0]?.valueInteger;
  if (typeof minLength === 'number' && value.length < minLength) issues.error('value', path, `The answer '${value}' is shorter than the required minimum length of ${minLength}`);
  if (typeof qItem.maxLength === 'number' && value.length > qItem.maxLength) issues.error('value', path, `The answer '${value}' is longer than the allowed maximum length of ${qItem.maxLength}`);
  const regex = extensionsOf(qItem as never, `${EXT}regex`)[0]?.valueString;
  if (typeof regex === 'string') {
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(`^(?:${regex})$`, 'u');
    } catch {
      issues.warning('processing', path, `The regex '${regex}' of the questionnaire item cannot be used`);
    }
    if (pattern && !pattern.test(value)) issues.error('value', path, `The answer '${value}' does not conform to the expected format (regex '${regex}')`);
  }
}

interface Quantity {
  value?: number;
  unit?: string;
  system?: string;
  code?: string;
}

function quantityLimits(run: Run, qItem: QuestionnaireItem, q: Quantity, path: string): void {
  const issues = run.ctx.issues;
  for (const [url, sign, word] of [
    [`${SDC}sdc-questionnaire-minQuantity`, -1, 'less than the allowed minimum'],
    [`${SDC}sdc-questionnaire-maxQuantity`, 1, 'greater than the allowed maximum'],
  ] as const) {
    const limit = extensionsOf(qItem as never, url)[0]?.valueQuantity as Quantity | undefined;
    if (!limit) continue;
    const order = compareQuantities(q, limit);
    if (order === 'no-units') issues.error('value', path, `The quantity ${q.value} ${q.unit ?? ''} cannot be compared to the allowed ${sign < 0 ? 'minimum' : 'maximum'} of ${limit.value} ${limit.unit ?? ''} because no formal units are specified`);
    else if (order === 'incompatible') issues.error('value', path, `The quantity ${q.value} ${q.code} cannot be compared to the allowed ${sign < 0 ? 'minimum' : 'maximum'} of ${limit.value} ${limit.code}: the units are not comparable`);
    else if (order === sign) issues.error('value', path, `The quantity ${q.value} ${q.code} is ${word} of ${limit.value} ${limit.code}`);
  }
  const units = extensionsOf(qItem as never, `${EXT}questionnaire-unitOption`).map((e) => e.valueCoding as Coding);
  if (units.length > 0 && !units.some((u) => u?.system === q.system && u?.code === q.code)) {
    issues.error('code-invalid', path, `The value ${q.value} ${q.unit ?? ''} (${q.system}#${q.code}) has a unit that is not valid (allowed = ${units.map((u) => `${u.system}#${u.code}`).join(', ')})`);
  }
  const unitValueSet = extensionsOf(qItem as never, `${EXT}questionnaire-unitValueSet`)[0]?.valueCanonical;
  if (typeof unitValueSet === 'string') {
    const expansion = run.terminology.expand(unitValueSet);
    const member = typeof q.code === 'string' ? expansion?.has(q.system, q.code) : expansion ? false : undefined;
    if (member === false) issues.error('code-invalid', path, `The value ${q.value} ${q.unit ?? ''} has a unit that is not in the unit value set '${unitValueSet}'`);
  }
}

interface Attachment {
  contentType?: string;
  data?: string;
  size?: number;
}

function attachmentLimits(run: Run, qItem: QuestionnaireItem, att: Attachment, path: string): void {
  const issues = run.ctx.issues;
  const answerPath = path.replace(/\.value\.ofType\(Attachment\)$/, '');
  const mimeTypes = extensionsOf(qItem as never, `${EXT}mimeType`).map((e) => e.valueCode);
  if (mimeTypes.length > 0 && typeof att.contentType === 'string' && !mimeTypes.includes(att.contentType)) {
    issues.error('value', answerPath, `The mime type ${att.contentType} is not valid for this answer (allowed = ${mimeTypes.join(', ')})`);
  }
  const actual = typeof att.data === 'string' ? base64Length(att.data) : undefined;
  if (actual !== undefined && typeof att.size === 'number' && att.size !== actual) {
    issues.error('value', path, `Stated Attachment Size ${att.size} does not match actual attachment size ${actual}`);
  }
  const maxSize = extensionsOf(qItem as never, `${EXT}maxSize`)[0]?.valueDecimal;
  const size = actual ?? att.size;
  if (typeof maxSize === 'number' && typeof size === 'number' && size > maxSize) {
    issues.error('value', answerPath, `The attachment is too large (allowed = ${maxSize}, found = ${size})`);
  }
}

function base64Length(data: string): number {
  const clean = data.replace(/\s/g, '');
  const padding = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - padding;
}

/** questionnaire-referenceResource: the resource types a reference answer may point to. */
function referenceTarget(run: Run, qItem: QuestionnaireItem, ref: { reference?: unknown }, path: string): void {
  if (typeof ref?.reference !== 'string' || ref.reference.startsWith('#')) return;
  const segments = ref.reference.split('?')[0].split('/');
  const historyAt = segments.indexOf('_history');
  const type = historyAt >= 2 ? segments[historyAt - 2] : segments[segments.length - 2];
  if (type === undefined || ref.reference.startsWith('urn:')) return;
  if (!run.registry.isResourceType(type)) {
    run.ctx.issues.error('value', path, `The resource type ${type} in the reference ${ref.reference} is not valid`);
    return;
  }
  const allowed = extensionsOf(qItem as never, `${EXT}questionnaire-referenceResource`).map((e) => e.valueCode as string);
  if (allowed.length > 0 && !allowed.includes(type) && !allowed.includes('Resource')) {
    run.ctx.issues.error('value', path, `The resource type '${type}' in the reference ${ref.reference} is not allowed (allowed = ${allowed.join(',')})`);
  }
}

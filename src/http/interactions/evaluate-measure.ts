import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../../errors.js';
import { evaluateMeasure, type MeasureRequest } from '../../measures/evaluate.js';
import type { FhirRequest } from '../fhir-request.js';
import { checkId, type Handler } from './context.js';

/** The canonical of the operation Stepwise implements (with the `team` parameter added). */
export const EVALUATE_MEASURE_DEFINITION = 'http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure';

/**
 * Measure/[id]/$evaluate-measure (http://hl7.org/fhir/R4/measure-operation-evaluate-measure.html),
 * GET with query parameters or POST with a Parameters body: periodStart, periodEnd, subject, and
 * the Stepwise extension parameter `team` (Organization/[id]). The answer is the MeasureReport,
 * computed over what the principal's store may read.
 */
export const evaluateMeasureOperation: Handler = async (ctx, req, { id }) => {
  checkId(id);
  const report = await evaluateMeasure(ctx.store, id, measureRequest(req));
  return { status: 200, headers: {}, body: report };
};

const NAMES = ['periodStart', 'periodEnd', 'subject', 'team', 'reportType'] as const;
type Name = (typeof NAMES)[number];
/** R4 parameters of the operation Stepwise does not offer: refused rather than silently ignored. */
const UNSUPPORTED = ['measure', 'practitioner', 'lastReceivedOn'];

function measureRequest(req: FhirRequest): MeasureRequest {
  const given = req.method === 'GET' || req.body === undefined ? fromQuery(req.query) : fromParameters(req.body);
  // reportType: population (a summary) or subject (an individual report, which needs the subject); no subject-list
  if (given.reportType !== undefined && given.reportType !== 'population' && given.reportType !== 'subject') {
    throw badRequest(`$evaluate-measure: reportType '${given.reportType}' is not supported; use population or subject`, 'reportType');
  }
  if (given.reportType === 'subject' && given.subject === undefined) throw badRequest("$evaluate-measure: reportType 'subject' needs the subject (Patient/[id])", 'subject');
  return { periodStart: given.periodStart!, periodEnd: given.periodEnd!, subject: given.subject, team: given.team };
}

function fromQuery(query: [string, string][]): Partial<Record<Name, string>> {
  const out: Partial<Record<Name, string>> = {};
  for (const [name, value] of query) {
    if (UNSUPPORTED.includes(name)) throw badRequest(`$evaluate-measure: parameter '${name}' is not supported`, name);
    if (!(NAMES as readonly string[]).includes(name)) continue;
    if (out[name as Name] !== undefined) throw badRequest(`$evaluate-measure: parameter '${name}' is given more than once`, name);
    out[name as Name] = value;
  }
  return out;
}

function fromParameters(body: unknown): Partial<Record<Name, string>> {
  if (!body || typeof body !== 'object' || Array.isArray(body) || (body as { resourceType?: unknown }).resourceType !== 'Parameters') {
    throw badRequest('The body of $evaluate-measure is a Parameters resource');
  }
  const out: Partial<Record<Name, string>> = {};
  ((body as Parameters).parameter ?? []).forEach((p, i) => {
    const at = `Parameters.parameter[${i}]`;
    if (UNSUPPORTED.includes(p.name ?? '')) throw badRequest(`$evaluate-measure: parameter '${p.name}' is not supported`, at);
    if (!(NAMES as readonly string[]).includes(p.name ?? '')) return;
    const name = p.name as Name;
    if (out[name] !== undefined) throw badRequest(`$evaluate-measure: parameter '${name}' is given more than once`, at);
    const value = valueOf(p);
    if (value === undefined) throw badRequest(`$evaluate-measure: parameter '${name}' needs ${valueTypes[name]}`, at);
    out[name] = value;
  });
  return out;
}

const valueTypes: Record<Name, string> = {
  periodStart: 'valueDate or valueDateTime',
  periodEnd: 'valueDate or valueDateTime',
  subject: 'valueString or valueReference',
  team: 'valueString or valueReference',
  reportType: 'valueCode',
};

function valueOf(p: ParametersParameter): string | undefined {
  if (p.name === 'periodStart' || p.name === 'periodEnd') return p.valueDate ?? p.valueDateTime;
  if (p.name === 'reportType') return p.valueCode ?? p.valueString;
  return p.valueString ?? p.valueReference?.reference;
}

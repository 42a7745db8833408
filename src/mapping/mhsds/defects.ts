import type { CodeSystem, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describeNhsNumberProblem } from '../../fhir/nhs-number.js';
import { partnerMappings } from '../mapping-data.js';
import { londonLocalToDateTime } from './london-time.js';
import { issue, rowPlace, type MhsdsRow } from './rows.js';
import type { MhsdsTable } from './tables.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{2}:\d{2}:\d{2}$/;

/**
 * Step in code, before a row is mapped: its defects, each named with its place in the source
 * (`MHS001MPI[2].NHSNumber`). The language has no way to report anything, so the checks are
 * here, driven by the data (the logical model's fields and bindings, the code systems). A defect
 * about the person (an NHS number failing Modulus 11, a retired code, a code outside its list) is a
 * warning and the value is still mapped; a value that cannot be put into FHIR at all (a date that is
 * not one) is reported and left out. Returns the row as it is mapped.
 */
export function checkRow(row: MhsdsRow, table: MhsdsTable): { row: MhsdsRow; issues: OperationOutcomeIssue[] } {
  const issues: OperationOutcomeIssue[] = [];
  const fields: Record<string, string> = {};
  const known = new Set(table.fields);
  for (const [field, value] of Object.entries(row.fields)) {
    const at = rowPlace(row, field);
    if (!known.has(field)) {
      issues.push(issue('warning', 'not-supported', at, `${field} is not a field of the MHSDS v5 table ${table.name}; its value '${value}' is not mapped`));
      continue;
    }
    if (!table.mapped.has(field)) {
      issues.push(issue('warning', 'not-supported', at, `${table.name}.${field} has no counterpart in Stepwise's FHIR resources; its value '${value}' is not mapped`));
      continue;
    }
    const problem = valueProblem(table, field, value);
    if (problem) {
      issues.push(issue('warning', 'value', at, `${at}: ${problem}; it is not mapped`));
      continue;
    }
    fields[field] = value;
    issues.push(...defectsOf(table, field, value, at));
  }
  for (const [date, time] of table.instants) {
    if (fields[time] !== undefined && fields[date] === undefined) {
      issues.push(issue('warning', 'incomplete', rowPlace(row, time), `${rowPlace(row, time)} is a time without its date (${date}); it is not mapped`));
      delete fields[time];
    } else if (fields[time] !== undefined && !londonLocalToDateTime(`${fields[date]}T${fields[time]}`)) {
      issues.push(issue('warning', 'value', rowPlace(row, time), `${fields[date]} ${fields[time]} is a time London clocks skipped (the clocks went forward); it is read as GMT`));
    }
  }
  return { row: { ...row, fields }, issues };
}

/** Why a value cannot be put into FHIR at all, or undefined. */
function valueProblem(table: MhsdsTable, field: string, value: string): string | undefined {
  const type = table.logicalModel.differential?.element.find((e) => e.path === `${table.name}.${field}`)?.type?.[0]?.code;
  if (type === 'date' && !(DATE.test(value) && isCalendarDate(value))) return `'${value}' is not a date (YYYY-MM-DD)`;
  if (type === 'time' && !(TIME.test(value) && +value.slice(0, 2) < 24 && +value.slice(3, 5) < 60 && +value.slice(6, 8) < 60)) return `'${value}' is not a time (hh:mm:ss)`;
  if (value !== value.trim() || value.length === 0) return `'${value}' has leading or trailing spaces`;
  // a CSV value may hold what no FHIR string may (http://hl7.org/fhir/R4/datatypes.html#string)
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(value)) return 'the value holds a control character no FHIR string may hold';
  return undefined;
}

/** Defects of a value that is still mapped: the NHS number's check digit, the code list. */
function defectsOf(table: MhsdsTable, field: string, value: string, at: string): OperationOutcomeIssue[] {
  if (field === 'NHSNumber') {
    const problem = describeNhsNumberProblem(value);
    return problem ? [issue('warning', 'value', at, `${at}: ${problem}`)] : [];
  }
  const system = table.codeLists.get(field);
  const codeSystem = system ? codeSystemOf(system) : undefined;
  if (!codeSystem) return [];
  const concept = codeSystem.concept?.find((c) => c.code === value);
  const list = codeSystem.title ?? codeSystem.name;
  if (!concept) {
    return codeSystem.content === 'fragment'
      ? [issue('information', 'code-invalid', at, `${at}: '${value}' is not among the codes of ${list} known to Stepwise (the published list is incomplete)`)]
      : [issue('warning', 'code-invalid', at, `${at}: '${value}' is not a code of ${list} (${codeSystem.url})`)];
  }
  const retired = concept.property?.some((p) => p.code === 'status' && p.valueCode === 'retired');
  return retired ? [issue('warning', 'code-invalid', at, `${at}: '${value}' (${concept.display}) is a retired code of ${list}, no longer valid in MHSDS v5`)] : [];
}

function codeSystemOf(url: string): CodeSystem | undefined {
  return partnerMappings('mhsds').codeSystems.find((c) => c.url === url);
}

function isCalendarDate(value: string): boolean {
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

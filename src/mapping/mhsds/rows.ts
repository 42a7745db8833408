import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { refuseDuplicateKeys } from '../../fhir/duplicate-keys.js';
import { checkInputLimits, DEFAULT_INPUT_LIMITS, type InputLimits } from '../../fhir/input-limits.js';
import type { Payload } from '../format.js';
import type { MhsdsTable } from './tables.js';

/** One MHSDS row: its table, its place among that table's rows (0-based), and its values as text. */
export interface MhsdsRow {
  table: string;
  index: number;
  fields: Record<string, string>;
}

/** A monthly extract can hold more rows than a FHIR body's arrays may; the body's size bounds it. */
const ROWS_JSON_LIMITS: InputLimits = { ...DEFAULT_INPUT_LIMITS, maxArrayItems: Number.MAX_SAFE_INTEGER };

/** Where a row, or one of its fields, is in the source: `MHS001MPI[2]`, `MHS001MPI[2].NHSNumber`. */
export const rowPlace = (row: Pick<MhsdsRow, 'table' | 'index'>, field?: string): string => `${row.table}[${row.index}]${field ? `.${field}` : ''}`;

export const issue = (severity: OperationOutcomeIssue['severity'], code: OperationOutcomeIssue['code'], expression: string, message: string): OperationOutcomeIssue => ({
  severity,
  code,
  details: { text: message },
  diagnostics: message,
  expression: [expression],
});

/**
 * The rows of an `mhsds-json` payload: a JSON array of rows, or one row, each an object with
 * `table` and the MHSDS v5 field names as keys. A value that is not text is read as its text and
 * reported; an empty value is no value. Rows of an unknown table are reported and skipped.
 */
export function rowsOfJson(payload: Payload, tables: ReadonlyMap<string, MhsdsTable>): { rows: MhsdsRow[]; issues: OperationOutcomeIssue[] } {
  if (typeof payload !== 'string') throw new FhirError(FhirErrorCode.INVALID, 'An mhsds-json payload is one JSON text, not a set of tables (that is mhsds-csv)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch (err) {
    throw new FhirError(FhirErrorCode.INVALID, `The mhsds-json payload is not JSON: ${(err as Error).message}`);
  }
  // as every JSON body: bounded, no control characters or prototype names, no member named twice
  // (JSON.parse would keep the last of two NHSNumber values silently)
  refuseDuplicateKeys(payload, parsed, checkInputLimits(parsed, ROWS_JSON_LIMITS));
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const rows: MhsdsRow[] = [];
  const issues: OperationOutcomeIssue[] = [];
  const counts = new Map<string, number>();
  list.forEach((item, i) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      issues.push(issue('error', 'structure', `$[${i}]`, `Row ${i} is not a JSON object; it is not read`));
      return;
    }
    const { table, ...values } = item as Record<string, unknown>;
    if (typeof table !== 'string' || !tables.has(table)) {
      issues.push(issue('error', 'not-supported', `$[${i}].table`, `Row ${i} names ${typeof table === 'string' ? `the table '${table}', which Stepwise does not map` : 'no table'} (the tables are ${[...tables.keys()].join(', ')}); it is not read`));
      return;
    }
    const row: MhsdsRow = { table, index: counts.get(table) ?? 0, fields: {} };
    counts.set(table, row.index + 1);
    for (const [field, value] of Object.entries(values)) {
      if (value === null || value === undefined || value === '') continue;
      if (typeof value === 'string') row.fields[field] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') {
        row.fields[field] = String(value);
        issues.push(issue('warning', 'value', rowPlace(row, field), `${rowPlace(row, field)} is a JSON ${typeof value}, not text; it is read as '${String(value)}'`));
      } else issues.push(issue('warning', 'structure', rowPlace(row, field), `${rowPlace(row, field)} is not a value but a JSON ${Array.isArray(value) ? 'array' : 'object'}; it is not mapped`));
    }
    rows.push(row);
  });
  if (list.length === 0) throw new FhirError(FhirErrorCode.INVALID, 'The mhsds-json payload holds no rows');
  return { rows, issues };
}

/** The rows of an `mhsds-csv` payload: one CSV text per table, keyed by the table's name, each with a header row. */
export function rowsOfCsv(payload: Payload, tables: ReadonlyMap<string, MhsdsTable>): { rows: MhsdsRow[]; issues: OperationOutcomeIssue[] } {
  if (typeof payload === 'string') throw new FhirError(FhirErrorCode.INVALID, 'An mhsds-csv payload is one CSV text per table, keyed by the table name (MHS101Referral)');
  const rows: MhsdsRow[] = [];
  const issues: OperationOutcomeIssue[] = [];
  for (const [table, text] of Object.entries(payload)) {
    if (!tables.has(table)) {
      issues.push(issue('error', 'not-supported', table, `'${table}' is not a table Stepwise maps (the tables are ${[...tables.keys()].join(', ')}); it is not read`));
      continue;
    }
    let records: Record<string, string>[];
    try {
      records = parse(text, { columns: (header: string[]) => headerOf(table, header), skip_empty_lines: true, bom: true, trim: false });
    } catch (err) {
      if (err instanceof FhirError) throw err;
      throw new FhirError(FhirErrorCode.INVALID, { message: `The CSV of ${table} cannot be read: ${(err as Error).message}`, expression: table });
    }
    records.forEach((record, index) => {
      const fields: Record<string, string> = {};
      for (const [field, value] of Object.entries(record)) if (value !== '') fields[field] = value;
      rows.push({ table, index, fields });
    });
  }
  if (rows.length === 0 && issues.length === 0) throw new FhirError(FhirErrorCode.INVALID, 'The mhsds-csv payload holds no rows');
  return { rows, issues };
}

/** A CSV header naming a field twice would keep the last value silently: refused, naming it. */
function headerOf(table: string, header: string[]): string[] {
  const twice = header.find((name, i) => header.indexOf(name) !== i);
  if (twice !== undefined) throw new FhirError(FhirErrorCode.INVALID, { message: `The CSV of ${table} names the column ${twice} more than once`, expression: `${table}.${twice}` });
  return header;
}

/** Rows as `mhsds-json`: a JSON array, each row's fields in its table's order. */
export function jsonOfRows(rows: readonly MhsdsRow[], tables: ReadonlyMap<string, MhsdsTable>): string {
  return JSON.stringify(
    rows.map((r) => {
      const out: Record<string, string> = { table: r.table };
      for (const f of tables.get(r.table)!.fields) if (r.fields[f] !== undefined) out[f] = r.fields[f];
      return out;
    }),
    null,
    2,
  );
}

/** Rows as `mhsds-csv`: one CSV per table that has rows, its header every field of the table. */
export function csvOfRows(rows: readonly MhsdsRow[], tables: ReadonlyMap<string, MhsdsTable>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const table of tables.values()) {
    const mine = rows.filter((r) => r.table === table.name);
    if (mine.length === 0) continue;
    out[table.name] = stringify(
      mine.map((r) => table.fields.map((f) => r.fields[f] ?? '')),
      { header: true, columns: [...table.fields] },
    );
  }
  return out;
}

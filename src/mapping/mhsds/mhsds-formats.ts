import type { Bundle } from '@medplum/fhirtypes';
import type { Mapped, PartnerFormat, Payload } from '../format.js';
import { readMhsdsRows } from './read.js';
import { csvOfRows, jsonOfRows, rowsOfCsv, rowsOfJson, type MhsdsRow } from './rows.js';
import { mhsdsTables } from './tables.js';
import { writeMhsdsRows } from './write.js';

/** MHSDS v5 records as JSON: an array (or one object) of rows, each `{"table": "MHS101Referral", …}`, values as text. */
export const MHSDS_JSON: PartnerFormat = {
  name: 'mhsds-json',
  mediaType: 'application/json',
  read: async (payload: Payload) => readWith(rowsOfJson(payload, mhsdsTables())),
  write: async (bundle: Bundle) => writeWith(bundle, (rows) => jsonOfRows(rows, mhsdsTables())),
};

/** MHSDS v5 records as CSV: one CSV text per table, keyed by the table's name, each with a header row. */
export const MHSDS_CSV: PartnerFormat = {
  name: 'mhsds-csv',
  mediaType: 'text/csv',
  read: async (payload: Payload) => readWith(rowsOfCsv(payload, mhsdsTables())),
  write: async (bundle: Bundle) => writeWith(bundle, (rows) => csvOfRows(rows, mhsdsTables())),
};

function readWith(parsed: Mapped<MhsdsRow[]> | { rows: MhsdsRow[]; issues: Mapped<Bundle>['issues'] }): Mapped<Bundle> {
  const rows = 'rows' in parsed ? parsed.rows : parsed.result;
  const read = readMhsdsRows(rows);
  return { result: read.result, issues: [...parsed.issues, ...read.issues] };
}

function writeWith(bundle: Bundle, serialise: (rows: MhsdsRow[]) => Payload): Mapped<Payload> {
  const written = writeMhsdsRows(bundle);
  return { result: serialise(written.result), issues: written.issues };
}

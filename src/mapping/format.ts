import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { stepwiseProfileUrl } from '../fhir/canonical.js';

/**
 * The partner formats Stepwise maps (issue 14; docs: ../../mappings/README.md). `fhir` is the
 * pivot: every other format is read into FHIR and written from FHIR.
 */
export const FORMAT_NAMES = ['fhir', 'bars', 'mhsds-json', 'mhsds-csv', 'nhs111-pem'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

export const isFormatName = (name: string): name is FormatName => (FORMAT_NAMES as readonly string[]).includes(name);

/**
 * A partner payload: one text, or for table formats (mhsds-csv) one text per table, keyed by the
 * table's name (`MHS101Referral`).
 */
export type Payload = string | Readonly<Record<string, string>>;

/**
 * What a mapping gives back: its result, and every defect of the source or field it could not map,
 * each naming its location in the source (`expression`, e.g. `MHS001MPI[2].NHSNumber`), never
 * dropped silently. Defects are warnings (the record is still mapped); an `error` issue means that
 * part of the source could not be read at all.
 */
export interface Mapped<T> {
  result: T;
  issues: OperationOutcomeIssue[];
}

/**
 * One partner format: read into FHIR, written from FHIR, or both.
 *
 * `read` gives a Bundle of one of two kinds, which decides what `$ingest` does with it:
 * - `message`: a FHIR message (BaRS-shaped, MessageHeader first), handed to the messaging front
 *   door exactly as `$process-message` would be (bars, nhs111-pem);
 * - `collection`: records (mhsds-*), each entry a resource that refers to the others by business
 *   identifier (`Reference.identifier`), never by server id; `$ingest` resolves them and applies
 *   each record's effect through the write pipeline.
 * A payload that cannot be read at all (not JSON, not XML, no rows) throws a FhirError (400).
 *
 * `write` takes what `read` gives (a Bundle whose entries may also refer by `Patient/123`, when
 * written from the store) and gives the payload back.
 */
/**
 * On a `collection` entry: the places in the source it was mapped from (`MHS101Referral[0],
 * MHS102ServiceTypeReferredTo[0]`), which $ingest names when it says what it did with the entry.
 */
export const MAPPED_FROM = stepwiseProfileUrl('mapped-from');

export interface PartnerFormat {
  readonly name: FormatName;
  /** The media type of one payload text. */
  readonly mediaType: string;
  read?(payload: Payload): Promise<Mapped<Bundle>>;
  write?(bundle: Bundle): Promise<Mapped<Payload>>;
}

import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';

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
 * each naming its location in the source (`expression`), never dropped silently.
 */
export interface Mapped<T> {
  result: T;
  issues: OperationOutcomeIssue[];
}

/** One partner format: read into FHIR (a Bundle of what it says), written from FHIR, or both. */
export interface PartnerFormat {
  readonly name: FormatName;
  /** The media type of one payload text. */
  readonly mediaType: string;
  read?(payload: Payload): Promise<Mapped<Bundle>>;
  write?(bundle: Bundle): Promise<Mapped<Payload>>;
}

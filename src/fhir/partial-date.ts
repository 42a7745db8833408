/**
 * A FHIR date, dateTime or instant read into its parts (http://hl7.org/fhir/R4/datatypes.html#dateTime).
 * A partial value stands for a span of time: "2020" the whole year, "2020-03-04T10:15" the whole
 * minute. Search (a value as an inclusive range, fhir/search/date-range.ts) and FHIRPath ordering
 * (fhir/validation/dates.ts) both start here; they differ only in what they do with a fraction of a
 * second, and in search checking the calendar.
 */
export interface PartialDate {
  year: number;
  /** 0-based, as Date.UTC takes it; 0 when absent. */
  month: number;
  /** 1 when absent. */
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** The digits after the decimal point of the seconds, as written. */
  fraction?: string;
  /** Number of components given: 1 year, 2 month, 3 day, 5 minute, 6 second, 7 fraction. */
  precision: 1 | 2 | 3 | 5 | 6 | 7;
  zoned: boolean;
  /**
   * Epoch milliseconds of the value's first whole second (the fraction left out), its time zone
   * applied; a value without one is taken as UTC.
   */
  start: number;
  /** For precisions 1 to 6: epoch milliseconds just after the span (exclusive). */
  end: number;
}

const PARTS = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function readPartialDate(value: string): PartialDate | undefined {
  const m = PARTS.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  const hour = h ? Number(h) : 0;
  const minute = mi ? Number(mi) : 0;
  const second = s ? Number(s) : 0;
  const offset = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 3600_000 + Number(tz.slice(4, 6)) * 60_000) : 0;
  const start = Date.UTC(year, month, day, hour, minute, second) - offset;
  const precision = fraction ? 7 : s ? 6 : mi ? 5 : d ? 3 : mo ? 2 : 1;
  // a time zone comes only with a time, so the calendar spans need no offset
  const end =
    precision === 1 ? Date.UTC(year + 1, 0, 1) : precision === 2 ? Date.UTC(year, month + 1, 1) : precision === 3 ? Date.UTC(year, month, day + 1) : precision === 5 ? start + 60_000 : start + 1000;
  return { year, month, day, hour, minute, second, fraction, precision, zoned: tz !== undefined, start, end };
}

/**
 * FHIR dates are ranges: "2020" means the whole year, "2020-03-04T10:00" the whole minute
 * (http://hl7.org/fhir/R4/search.html#date). Both index values and search values become an
 * inclusive [lo, hi] range in milliseconds. A value without a time zone is taken as UTC.
 */
import { readPartialDate } from '../partial-date.js';

export interface DateRange {
  lo: Date;
  hi: Date;
}

export function parseDateRange(value: string): DateRange | undefined {
  const d = readPartialDate(value);
  if (!d) return undefined;
  if (d.precision >= 2 && (d.month < 0 || d.month > 11)) return undefined;
  if (d.precision >= 3 && (d.day < 1 || d.day > daysInMonth(d.year, d.month))) return undefined;
  if (d.hour > 24 || d.minute > 59 || d.second > 60) return undefined;
  if (!d.fraction) return { lo: new Date(d.start), hi: new Date(d.end - 1) };
  // to the millisecond: digits beyond the third are dropped
  const lo = d.start + Number(d.fraction.slice(0, 3).padEnd(3, '0'));
  return { lo: new Date(lo), hi: new Date(lo + 10 ** (3 - Math.min(d.fraction.length, 3)) - 1) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/**
 * Ordering of FHIR date, dateTime and instant values as FHIRPath defines it
 * (http://hl7.org/fhirpath/N1/#comparison): values are compared as points in time, time zones
 * included, and when their precisions differ the answer can be unknown. Medplum's FHIRPath compares
 * them as strings, which is wrong across time zones (09:30+01:00 is before 09:00Z).
 */
import { readPartialDate } from '../partial-date.js';

const FOURTEEN_HOURS = 14 * 3600_000;

/** The interval [low, high) a partial date or dateTime stands for, in epoch milliseconds. */
interface Interval {
  low: number;
  high: number;
  /** Number of components given: 1 year ... 7 fractional seconds; equal precision compares exactly. */
  precision: number;
  zoned: boolean;
}

export function dateInterval(value: string): Interval | undefined {
  const d = readPartialDate(value);
  if (!d) return undefined;
  if (!d.fraction) return { low: d.start, high: d.end, precision: d.precision, zoned: d.zoned };
  // the start to the whole millisecond, the span as long as the digits say (.1234: a tenth of one)
  const low = d.start + Math.trunc(Number(`0.${d.fraction}`) * 1000);
  return { low, high: low + 10 ** (3 - d.fraction.length), precision: 7, zoned: d.zoned };
}

/**
 * -1, 0 or 1, or undefined when the order cannot be known (different precisions that overlap).
 * A value without a time zone may be anywhere within ±14 hours of UTC.
 */
export function compareDates(a: string, b: string): -1 | 0 | 1 | undefined {
  const x = dateInterval(a);
  const y = dateInterval(b);
  if (!x || !y) return undefined;
  if (x.precision === y.precision && x.zoned === y.zoned) {
    return x.low < y.low ? -1 : x.low > y.low ? 1 : 0;
  }
  const slackX = x.zoned ? 0 : FOURTEEN_HOURS;
  const slackY = y.zoned ? 0 : FOURTEEN_HOURS;
  if (x.high + slackX <= y.low - slackY) return -1;
  if (x.low - slackX >= y.high + slackY) return 1;
  return undefined;
}

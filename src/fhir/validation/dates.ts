/**
 * Ordering of FHIR date, dateTime and instant values as FHIRPath defines it
 * (http://hl7.org/fhirpath/N1/#comparison): values are compared as points in time, time zones
 * included, and when their precisions differ the answer can be unknown. Medplum's FHIRPath compares
 * them as strings, which is wrong across time zones (09:30+01:00 is before 09:00Z).
 */

const PARTS = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
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
  const m = PARTS.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  const ms = frac ? Number(`0.${frac}`) * 1000 : 0;
  let low = Date.UTC(year, month, day, h ? Number(h) : 0, mi ? Number(mi) : 0, s ? Number(s) : 0, ms);
  let high: number;
  let precision: number;
  if (frac) {
    precision = 7;
    high = low + 10 ** (3 - frac.length);
  } else if (s) {
    precision = 6;
    high = low + 1000;
  } else if (mi) {
    precision = 5;
    high = low + 60_000;
  } else if (d) {
    precision = 3;
    high = Date.UTC(year, month, day + 1);
  } else if (mo) {
    precision = 2;
    high = Date.UTC(year, month + 1, 1);
  } else {
    precision = 1;
    high = Date.UTC(year + 1, 0, 1);
  }
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const offset = sign * (Number(tz.slice(1, 3)) * 3600_000 + Number(tz.slice(4, 6)) * 60_000);
    low -= offset;
    high -= offset;
  }
  return { low, high, precision, zoned: tz !== undefined };
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

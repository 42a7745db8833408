import { badRequest } from '../errors.js';
import { endOfLondonDay } from '../pathway/risk/same-day.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const HOUR = 3_600_000;

/**
 * The reporting period of $evaluate-measure as the instants [start, end): periodStart and periodEnd
 * are dates or dateTimes (http://hl7.org/fhir/R4/measure-operation-evaluate-measure.html). A date
 * is a London calendar day, and periodEnd includes its whole day: periodStart=2026-01-01 and
 * periodEnd=2026-12-31 is the year 2026 in England.
 */
export function reportingPeriod(periodStart: string | undefined, periodEnd: string | undefined): { start: Date; end: Date } {
  if (!periodStart) throw badRequest('$evaluate-measure needs periodStart (a date or dateTime)', 'periodStart');
  if (!periodEnd) throw badRequest('$evaluate-measure needs periodEnd (a date or dateTime)', 'periodEnd');
  const start = instant(periodStart, 'periodStart', false);
  const end = instant(periodEnd, 'periodEnd', true);
  if (end <= start) throw badRequest(`periodEnd (${periodEnd}) must be after periodStart (${periodStart})`, 'periodEnd');
  return { start, end };
}

function instant(value: string, name: string, endOfDay: boolean): Date {
  if (DATE.test(value)) {
    const noon = Date.parse(`${value}T12:00:00Z`);
    if (Number.isNaN(noon) || new Date(noon).toISOString().slice(0, 10) !== value) throw badRequest(`${name} '${value}' is not a calendar date`, name);
    // London is at UTC or one hour ahead, so noon UTC is on the same London day
    return startOfLondonDay(new Date(endOfDay ? noon + 24 * HOUR : noon));
  }
  const t = DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw badRequest(`${name} '${value}' is neither a date (YYYY-MM-DD) nor a dateTime with a time zone`, name);
  return new Date(t);
}

function startOfLondonDay(noonOfDay: Date): Date {
  return new Date(endOfLondonDay(new Date(noonOfDay.getTime() - 24 * HOUR)).getTime() + 1000);
}

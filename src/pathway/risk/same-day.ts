import { londonDate } from '../working-days.js';

/** A same-day response is due within this many hours of the signal… */
export const SAME_DAY_HOURS = 4;

/**
 * …and no later than the end of the London day it arrived on, whichever is sooner (domain.md:
 * a same-day welfare response, never "next available"; the front door's emergency standard is 4
 * hours). A signal at 22:30 is due at 23:59:59 London time, one at 09:00 at 13:00.
 */
export function sameDayDue(now: Date): Date {
  const within = new Date(now.getTime() + SAME_DAY_HOURS * 3_600_000);
  const endOfDay = endOfLondonDay(now);
  return within < endOfDay ? within : endOfDay;
}

/** The last second of the London calendar day of `at`. */
export function endOfLondonDay(at: Date): Date {
  const today = londonDate(at);
  // step forward by the hour until the London date changes, then back to the last second before it
  let t = Math.floor(at.getTime() / 3_600_000) * 3_600_000;
  while (londonDate(new Date(t + 3_600_000)) === today) t += 3_600_000;
  // t is within the last hour of the day; find the minute the date changes
  let end = t;
  while (londonDate(new Date(end + 60_000)) === today) end += 60_000;
  return new Date(end + 59_000);
}

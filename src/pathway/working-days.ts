/**
 * Working days in England and Wales: Monday to Friday except bank holidays, counted in local time
 * (Europe/London). Bank holidays follow the Banking and Financial Dealings Act 1971 as applied
 * each year (https://www.gov.uk/bank-holidays): fixed days move to the next weekday when they fall
 * on a weekend ("substitute days"), Easter is computed, and the one-off days proclaimed by the
 * Crown (jubilees, coronations, a state funeral) come from a list that a deployment can extend.
 */

import { londonWallTime } from '../london-time.js';

const DAY_MS = 86_400_000;

/** A calendar date as `YYYY-MM-DD`. */
export type IsoDate = string;

/**
 * One-off changes proclaimed since 1995: extra days, and regular holidays moved to another date
 * (the early May holiday to VE Day in 1995 and 2020; the spring holiday for the Golden, Diamond
 * and Platinum Jubilees).
 */
export const PROCLAIMED_EXTRA_DAYS: readonly IsoDate[] = [
  '1999-12-31', // millennium
  '2002-06-03', // Golden Jubilee
  '2011-04-29', // royal wedding
  '2012-06-05', // Diamond Jubilee
  '2022-06-03', // Platinum Jubilee
  '2022-09-19', // state funeral of Queen Elizabeth II
  '2023-05-08', // coronation of King Charles III
];

const MOVED: Record<number, { earlyMay?: IsoDate; spring?: IsoDate }> = {
  1995: { earlyMay: '1995-05-08' },
  2002: { spring: '2002-06-04' },
  2012: { spring: '2012-06-04' },
  2020: { earlyMay: '2020-05-08' },
  2022: { spring: '2022-06-02' },
};

export interface WorkingDayOptions {
  /** Further one-off holidays (`YYYY-MM-DD`), added to the proclaimed ones above. */
  extraHolidays?: readonly IsoDate[];
}

/** Easter Sunday of a Gregorian year (the anonymous Gregorian computus, Meeus/Jones/Butcher). */
export function easterSunday(year: number): IsoDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return iso(Date.UTC(year, month - 1, day));
}

const holidayCache = new Map<number, IsoDate[]>();

/** The regular bank holidays of England and Wales in a year, with substitute days, in date order. */
export function bankHolidays(year: number): IsoDate[] {
  const cached = holidayCache.get(year);
  if (cached) return cached;
  const days: number[] = [];
  const taken = (t: number) => days.includes(t);
  /** A fixed-date holiday on a weekend is observed on the next weekday not already a holiday. */
  const observe = (t: number) => {
    let day = t;
    while (isWeekend(day) || taken(day)) day += DAY_MS;
    days.push(day);
  };
  observe(Date.UTC(year, 0, 1));
  const easter = Date.parse(`${easterSunday(year)}T00:00:00Z`);
  days.push(easter - 2 * DAY_MS, easter + DAY_MS);
  days.push(parse(MOVED[year]?.earlyMay) ?? nthMonday(year, 4, 1));
  days.push(parse(MOVED[year]?.spring) ?? lastMonday(year, 4));
  days.push(lastMonday(year, 7));
  // Christmas first, so that Boxing Day's substitute comes after Christmas Day's
  observe(Date.UTC(year, 11, 25));
  observe(Date.UTC(year, 11, 26));
  const list = days.sort((x, y) => x - y).map(iso);
  holidayCache.set(year, list);
  return list;
}

/** Whether a London calendar date is a bank holiday (regular, proclaimed, or configured). */
export function isBankHoliday(date: IsoDate, opts: WorkingDayOptions = {}): boolean {
  const year = Number(date.slice(0, 4));
  return bankHolidays(year).includes(date) || PROCLAIMED_EXTRA_DAYS.includes(date) || (opts.extraHolidays?.includes(date) ?? false);
}

export function isWorkingDay(date: IsoDate, opts: WorkingDayOptions = {}): boolean {
  return !isWeekend(Date.parse(`${date}T00:00:00Z`)) && !isBankHoliday(date, opts);
}

/**
 * The instant `n` working days after `from`, at the same London wall-clock time: from a Friday
 * afternoon, one working day is Monday afternoon (Tuesday after a bank holiday Monday). A start on
 * a non-working day counts from that day, so Saturday + 1 is Monday. Daylight saving changes in
 * between are respected, so 09:00 stays 09:00 local.
 */
export function addWorkingDays(from: Date, n: number, opts: WorkingDayOptions = {}): Date {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`working days must be a non-negative integer, got ${n}`);
  const local = londonWallTime(from);
  let day = Date.UTC(local.year, local.month - 1, local.day);
  let left = n;
  while (left > 0) {
    day += DAY_MS;
    if (isWorkingDay(iso(day), opts)) left--;
  }
  const d = new Date(day);
  return fromLondonWallTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), local.hour, local.minute, local.second, from.getUTCMilliseconds());
}

/**
 * The instant `days` calendar days and `months` calendar months after `from`, at the same London
 * wall-clock time: a weekly contact at 09:00 stays at 09:00 across the clock changes. A day of the
 * month that the target month lacks becomes its last day (31 January + 1 month is 28 February).
 */
export function addLondonCalendar(from: Date, shift: { days?: number; months?: number }): Date {
  const local = londonWallTime(from);
  const monthIndex = local.month - 1 + (shift.months ?? 0);
  const year = local.year + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const d = new Date(Date.UTC(year, month, Math.min(local.day, lastDay)) + (shift.days ?? 0) * DAY_MS);
  return fromLondonWallTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), local.hour, local.minute, local.second, from.getUTCMilliseconds());
}

/** `at` when it falls on a working day, else the same London time on the next working day. */
export function onWorkingDay(at: Date, opts: WorkingDayOptions = {}): Date {
  return isWorkingDay(londonDate(at), opts) ? at : addWorkingDays(at, 1, opts);
}

/** The London calendar date of an instant. */
export function londonDate(at: Date): IsoDate {
  const p = londonWallTime(at);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/**
 * The instant at which London clocks show the given time. In the hour skipped in March the time is
 * read with the winter offset (an hour later in summer time); in the repeated hour of October the
 * first occurrence is taken.
 */
function fromLondonWallTime(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): Date {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  for (const offsetHours of [1, 0]) {
    const candidate = asUtc - offsetHours * 3_600_000;
    const p = londonWallTime(new Date(candidate));
    if (p.year === year && p.month === month && p.day === day && p.hour === hour && p.minute === minute) return new Date(candidate);
  }
  return new Date(asUtc);
}

function isWeekend(t: number): boolean {
  const dow = new Date(t).getUTCDay();
  return dow === 0 || dow === 6;
}

/** The nth Monday (1-based) of a month (0-based). */
function nthMonday(year: number, month: number, nth: number): number {
  const first = Date.UTC(year, month, 1);
  const offset = (8 - new Date(first).getUTCDay()) % 7;
  return first + (offset + (nth - 1) * 7) * DAY_MS;
}

function lastMonday(year: number, month: number): number {
  const last = Date.UTC(year, month + 1, 0);
  const back = (new Date(last).getUTCDay() + 6) % 7;
  return last - back * DAY_MS;
}

function parse(date: IsoDate | undefined): number | undefined {
  return date ? Date.parse(`${date}T00:00:00Z`) : undefined;
}

function iso(t: number): IsoDate {
  return new Date(t).toISOString().slice(0, 10);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

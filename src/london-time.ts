/**
 * Wall-clock time in England (Europe/London): the one formatter that reads an instant as London
 * clocks show it, shared by the pathway's working days and the MHSDS mapping's offsets.
 */

export const LONDON_TIME_ZONE = 'Europe/London';

const formatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: LONDON_TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** A London wall-clock time; month and day are 1-based. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** What London clocks show at an instant (whole seconds). */
export function londonWallTime(at: Date): WallTime {
  const parts: Record<string, number> = {};
  for (const p of formatter.formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

/**
 * MHSDS dates and times are London wall-clock times without an offset; a FHIR dateTime with a time
 * needs one (http://hl7.org/fhir/R4/datatypes.html#dateTime). The mapping language has no time-zone
 * arithmetic, so these two steps are code (mappings/README.md, "Engine limits").
 */
import { londonWallTime } from '../../london-time.js';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** `2024-07-01T09:30:00` (London) as `2024-07-01T09:30:00+01:00`; undefined when London clocks never showed it (the hour skipped in March). */
export function londonLocalToDateTime(local: string): string | undefined {
  const m = LOCAL.exec(local);
  if (!m) return undefined;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  // the first occurrence of the repeated hour in October is taken
  for (const offset of [1, 0]) {
    const instant = new Date(asUtc - offset * 3_600_000);
    if (londonLocalOf(instant) === local) return `${local}+0${offset}:00`;
  }
  return undefined;
}

/** The London wall-clock time of an instant, `YYYY-MM-DDThh:mm:ss`. */
export function londonLocalOf(instant: Date): string {
  const p = londonWallTime(instant);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * Step in code, after a map to FHIR: every wall-clock dateTime the map built (`date + 'T' + time`)
 * gets London's offset at that moment. A time London clocks skipped is left without (the caller
 * has reported it).
 */
export function attachLondonOffsets<T>(value: T): T {
  return walkStrings(value, (s) => (LOCAL.test(s) ? (londonLocalToDateTime(s) ?? s) : s));
}

/**
 * Step in code, before a map from FHIR: every dateTime with an offset becomes London wall-clock
 * time (whole seconds), which the map splits into an MHSDS date and time.
 */
export function toLondonWallTime<T>(value: T): T {
  return walkStrings(value, (s) => (WITH_OFFSET.test(s) ? londonLocalOf(new Date(s)) : s));
}

function walkStrings<T>(value: T, f: (s: string) => string): T {
  if (typeof value === 'string') return f(value) as T;
  if (Array.isArray(value)) return value.map((v) => walkStrings(v, f)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === 'meta' ? v : walkStrings(v, f);
    return out as T;
  }
  return value;
}

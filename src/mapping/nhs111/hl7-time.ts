/**
 * HL7 v3 TS (a point in time: `YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+|-ZZ[ZZ]]`, HL7 v3 Data Types R1
 * §TS) read as a FHIR date or dateTime (http://hl7.org/fhir/R4/datatypes.html#dateTime). A code
 * step, not a StructureMap rule: the mapping language has no date transform, FHIRPath cannot
 * parse this compact form, and a malformed value must be reported rather than mangled.
 *
 * Returns undefined when the text is not a TS FHIR can hold: malformed, an impossible date, or a
 * time of day without a time zone (FHIR requires one once hours are given).
 */
export function readHl7Timestamp(ts: string): string | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(?:(\d{2})(\d{2})?(\d{2}(?:\.\d+)?)?)?(?:([+-])(\d{2})(\d{2})?)?$/.exec(ts.trim());
  if (!m) return undefined;
  const [, year, month, day, hour, minute, second, sign, zh, zm] = m;
  if (month && (+month < 1 || +month > 12)) return undefined;
  if (day && (+day < 1 || +day > daysIn(+year, +month))) return undefined;
  if (!hour) {
    if (sign) return undefined; // a zone on a date alone means nothing in FHIR
    return [year, month, day].filter(Boolean).join('-');
  }
  if (!day || !sign) return undefined;
  if (+hour > 23 || +(minute ?? 0) > 59 || +(second ?? 0) >= 60 || +zh > 14 || +(zm ?? 0) > 59) return undefined;
  return `${year}-${month}-${day}T${hour}:${minute ?? '00'}:${second ?? '00'}${sign}${zh}:${zm ?? '00'}`;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

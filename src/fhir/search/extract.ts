import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { parseDateRange } from './date-range.js';
import { searchParamsFor, type SearchParam } from './definitions.js';
import { normalizeString } from './normalize.js';
import { parseReferenceString } from './reference.js';

export interface TokenRow { param: string; system: string | null; code: string | null; text: string | null }
export interface StringRow { param: string; value: string; norm: string }
export interface DateRow { param: string; lo: Date; hi: Date }
export interface ReferenceRow { param: string; targetType: string | null; targetId: string | null; targetUrl: string | null }
export interface NumberRow { param: string; value: string; system: string | null; code: string | null }
export interface UriRow { param: string; value: string }

/** Every search index value of one resource, ready for the index tables. */
const EARLIEST = new Date('0001-01-01T00:00:00.000Z');
const LATEST = new Date('9999-12-31T23:59:59.999Z');

export interface IndexRows {
  token: TokenRow[];
  string: StringRow[];
  date: DateRow[];
  reference: ReferenceRow[];
  number: NumberRow[];
  uri: UriRow[];
}

/**
 * Evaluates every search parameter of the resource's type (their FHIRPath expressions, parsed once
 * by @medplum/core) and turns the values into index rows, following the value rules of
 * http://hl7.org/fhir/R4/search.html for each parameter type. Plain paths are walked natively
 * (fast-path.ts). `skipAbsent: false` evaluates even the parameters whose starting properties the
 * resource lacks and `engineOnly` sends every expression through the FHIRPath engine: both are
 * there to check the shortcuts are exact.
 */
export function extractIndexRows(resource: Resource, opts: { skipAbsent?: boolean; engineOnly?: boolean } = {}): IndexRows {
  const skipAbsent = opts.skipAbsent ?? true;
  const rows: IndexRows = { token: [], string: [], date: [], reference: [], number: [], uri: [] };
  let typed: TypedValue[] | undefined;
  const keys = Object.keys(resource);
  for (const sp of searchParamsFor(resource.resourceType).values()) {
    if (!sp.kind) continue;
    // most parameters of a type start from properties this instance does not have
    if (skipAbsent && sp.startsFrom && !sp.startsFrom.some((p) => hasProperty(resource, keys, p))) continue;
    let values: TypedValue[];
    try {
      values = sp.evaluate && !opts.engineOnly ? sp.evaluate(resource) : evalFhirPathTyped(sp.details.parsedExpression, (typed ??= [toTypedValue(resource)]));
    } catch {
      continue; // an expression that cannot apply to this instance indexes nothing
    }
    for (const v of values) addValue(rows, sp, v);
  }
  dedupe(rows);
  return rows;
}

/** Whether the resource has property `p`, or a choice of it (`value` → `valueQuantity`). */
function hasProperty(resource: Resource, keys: string[], p: string): boolean {
  if ((resource as unknown as Record<string, unknown>)[p] !== undefined) return true;
  for (const k of keys) if (k.length > p.length && k.startsWith(p) && k.charCodeAt(p.length) >= 65 && k.charCodeAt(p.length) <= 90) return true;
  return false;
}

function addValue(rows: IndexRows, sp: SearchParam, tv: TypedValue): void {
  const { type, value } = tv;
  if (value === undefined || value === null) return;
  switch (sp.kind) {
    case 'token':
      return addTokens(rows.token, sp.code, type, value);
    case 'string':
      return addStrings(rows.string, sp.code, type, value);
    case 'date':
      return addDates(rows.date, sp.code, type, value);
    case 'reference':
      return addReference(rows, sp.code, type, value);
    case 'number':
      return addNumber(rows.number, sp.code, type, value);
    case 'uri':
      if (typeof value === 'string') rows.uri.push({ param: sp.code, value });
      return;
  }
}

function addTokens(out: TokenRow[], param: string, type: string, value: any): void {
  const push = (system: string | undefined, code: string | undefined, text?: string) =>
    out.push({ param, system: system ?? null, code: code ?? null, text: text ? normalizeString(text) : null });
  switch (type) {
    case 'Coding':
      if (value.code || value.display) push(value.system, value.code, value.display);
      return;
    case 'CodeableConcept':
      for (const c of value.coding ?? []) if (c.code || c.display) push(c.system, c.code, c.display ?? value.text);
      if (value.text) push(undefined, undefined, value.text);
      return;
    case 'Identifier':
      if (value.value || value.type?.text) push(value.system, value.value, value.type?.text);
      return;
    case 'ContactPoint':
      if (value.value) push(value.system, value.value);
      return;
    case 'boolean':
      push(undefined, String(value));
      return;
    default:
      if (typeof value === 'string' || typeof value === 'number') push(undefined, String(value));
  }
}

function addStrings(out: StringRow[], param: string, type: string, value: any): void {
  const seen = seenStrings(out);
  const push = (s: unknown) => {
    if (typeof s !== 'string' || s.length === 0) return;
    // a value repeated (a thousand `given` names alike) is indexed, and normalised, once
    const key = `${param}\u0000${s}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ param, value: s, norm: normalizeString(s) });
  };
  switch (type) {
    case 'HumanName':
      [value.text, value.family, ...(value.given ?? []), ...(value.prefix ?? []), ...(value.suffix ?? [])].forEach(push);
      return;
    case 'Address':
      [value.text, ...(value.line ?? []), value.city, value.district, value.state, value.postalCode, value.country].forEach(push);
      return;
    default:
      push(value);
  }
}

function addDates(out: DateRow[], param: string, type: string, value: any): void {
  const range = (s: unknown) => (typeof s === 'string' ? parseDateRange(s) : undefined);
  switch (type) {
    case 'Period': {
      const start = range(value.start);
      const end = range(value.end);
      if (!start && !end) return;
      // an open end is an ongoing period (http://hl7.org/fhir/R4/datatypes.html#Period); the
      // stand-ins for "ever" are the widest instants PostgreSQL's timestamptz accepts as literals
      out.push({ param, lo: start?.lo ?? EARLIEST, hi: end?.hi ?? LATEST });
      return;
    }
    case 'Timing':
      for (const e of value.event ?? []) {
        const r = range(e);
        if (r) out.push({ param, ...r });
      }
      return;
    default: {
      const r = range(value);
      if (r) out.push({ param, ...r });
    }
  }
}

function addReference(rows: IndexRows, param: string, type: string, value: any): void {
  if (type === 'Reference') {
    if (value.identifier?.value) {
      rows.token.push({ param: `${param}:identifier`, system: value.identifier.system ?? null, code: value.identifier.value, text: null });
    }
    if (typeof value.reference !== 'string' || value.reference.startsWith('#')) return;
    // an absolute reference points at another server: it is matched by its URL only
    const ref = parseReferenceString(value.reference);
    if (ref.url) rows.reference.push({ param, targetType: null, targetId: null, targetUrl: ref.url });
    else rows.reference.push({ param, targetType: ref.type ?? null, targetId: ref.id ?? null, targetUrl: null });
    return;
  }
  if (typeof value === 'string') {
    // canonical and uri references: matched by URL, without a |version (R4 search.html#versions)
    rows.reference.push({ param, targetType: null, targetId: null, targetUrl: value.split('|')[0] });
  }
}

function addNumber(out: NumberRow[], param: string, type: string, value: any): void {
  if (typeof value === 'number') out.push({ param, value: String(value), system: null, code: null });
  else if ((type === 'Quantity' || type === 'Age' || type === 'Duration' || type === 'Money') && typeof value.value === 'number') {
    out.push({ param, value: String(value.value), system: value.system ?? null, code: value.code ?? value.currency ?? null });
  }
}

/** The string rows already made for one resource, by `param NUL value` (addStrings). */
const stringKeys = new WeakMap<StringRow[], Set<string>>();
function seenStrings(out: StringRow[]): Set<string> {
  let seen = stringKeys.get(out);
  if (!seen) stringKeys.set(out, (seen = new Set()));
  return seen;
}

/**
 * Drops repeated rows: the same value reached by two paths of one parameter, or repeated in the
 * resource. Keys are built from the columns (JSON.stringify of every row cost most of the
 * extraction of a large resource); string rows are unique already (addStrings).
 */
function dedupe(rows: IndexRows): void {
  const unique = <T>(list: T[], key: (r: T) => string): T[] => {
    const seen = new Set<string>();
    return list.filter((r) => {
      const k = key(r);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  };
  const S = '\u0000';
  // null and the text 'null' must differ
  const n = (v: string | null) => (v === null ? '\u0001' : v);
  rows.token = unique(rows.token, (r) => `${r.param}${S}${n(r.system)}${S}${n(r.code)}${S}${n(r.text)}`);
  rows.date = unique(rows.date, (r) => `${r.param}${S}${r.lo.getTime()}${S}${r.hi.getTime()}`);
  rows.reference = unique(rows.reference, (r) => `${r.param}${S}${n(r.targetType)}${S}${n(r.targetId)}${S}${n(r.targetUrl)}`);
  rows.number = unique(rows.number, (r) => `${r.param}${S}${r.value}${S}${n(r.system)}${S}${n(r.code)}`);
  rows.uri = unique(rows.uri, (r) => `${r.param}${S}${r.value}`);
}

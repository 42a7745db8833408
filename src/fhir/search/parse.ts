import { FhirError, FhirErrorCode, badRequest } from '../../errors.js';
import { isResourceType } from '../resource-types.js';
import { parseDateRange } from './date-range.js';
import { searchParam, type SearchParam } from './definitions.js';
import {
  DEFAULT_COUNT,
  MAX_COUNT,
  type Filter,
  type FilterValue,
  type IgnoredParameter,
  type IncludeSpec,
  type Prefix,
  type SearchQuery,
  type SortKey,
} from './query.js';
import { parseReferenceString } from './reference.js';

export interface ParseOptions {
  /** `Prefer: handling=strict` makes an unknown or unsupported parameter an error (R4 search.html#errors). */
  strict?: boolean;
}

/** The options, and where a lenient parse lists what it ignored. */
type Parsing = ParseOptions & { ignored: IgnoredParameter[] };

/** Result parameters (http://hl7.org/fhir/R4/search.html#return) and others that are not criteria. */
const CONTROL = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude', '_cursor', '_format', '_pretty', '_contained', '_containedType']);
const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
const MODIFIERS_BY_TYPE: Record<string, Set<string>> = {
  token: new Set(['missing', 'not', 'text']),
  string: new Set(['missing', 'exact', 'contains']),
  date: new Set(['missing']),
  reference: new Set(['missing', 'identifier']),
  number: new Set(['missing']),
  quantity: new Set(['missing']),
  uri: new Set(['missing', 'below', 'above']),
};

/** Bounds on one query, so no request can make an unbounded SQL statement. */
export const MAX_SEARCH_PARAMS = 64;
export const MAX_OR_VALUES = 100;
/**
 * Most references one criterion may follow: each link of a chain (`owner.partof.name` follows 2)
 * and each `_has:` (reverse chain) is one join per candidate target type, so the SQL grows with
 * the depth and the work with its product. Three covers every question the pathway asks
 * (`Task?owner:CareTeam.participant.name`); 18 froze the embedded database for minutes (issue 13).
 */
export const MAX_CHAIN_DEPTH = 3;

/** Parses a search query string into criteria, following http://hl7.org/fhir/R4/search.html. */
export function parseSearch(resourceType: string, params: [string, string][], opts: ParseOptions = {}): SearchQuery {
  if (params.length > MAX_SEARCH_PARAMS) throw badRequest(`A search may have at most ${MAX_SEARCH_PARAMS} parameters; this one has ${params.length}`);
  const q: SearchQuery = { resourceType, filters: [], sort: [], count: DEFAULT_COUNT, include: [], revinclude: [], applied: [], ignored: [] };
  const parsing: Parsing = { ...opts, ignored: q.ignored };
  for (const [key, value] of params) {
    // FHIR strings carry no U+0000 (datatypes.html#string), and PostgreSQL refuses it in text
    if (key.includes('\u0000') || value.includes('\u0000')) throw badRequest(`Search parameter '${key.replaceAll('\u0000', '')}' contains the character U+0000`, key.replaceAll('\u0000', ''));
    const [name, modifier] = splitOnce(key, ':');
    if (CONTROL.has(name)) {
      parseControl(q, name, modifier, value);
      if (name !== '_cursor' && name !== '_format' && name !== '_pretty') q.applied.push([key, value]);
      continue;
    }
    checkChainDepth(key);
    const filter = parseCriterion(resourceType, key, value, parsing);
    if (filter) {
      q.filters.push(filter);
      q.applied.push([key, value]);
    }
  }
  return q;
}

/** 400 at the parameter when it follows more than MAX_CHAIN_DEPTH references (chains and `_has` together). */
function checkChainDepth(key: string): void {
  const depth = key.split('.').length - 1 + key.split('_has:').length - 1;
  if (depth > MAX_CHAIN_DEPTH) {
    throw new FhirError(FhirErrorCode.INVALID, { message: `Search parameter '${key}' follows ${depth} references; at most ${MAX_CHAIN_DEPTH} are supported (chains and _has together)`, expression: key, code: 'too-costly' });
  }
}

function parseControl(q: SearchQuery, name: string, modifier: string | undefined, value: string): void {
  switch (name) {
    case '_count': {
      const n = Number(value);
      if (!/^\d+$/.test(value)) throw badRequest(`_count must be a non-negative integer, got '${value}'`, '_count');
      q.count = Math.min(n, MAX_COUNT);
      return;
    }
    case '_sort':
      q.sort = value.split(',').filter(Boolean).map((s) => parseSortKey(q.resourceType, s));
      return;
    case '_total':
      if (value !== 'none' && value !== 'estimate' && value !== 'accurate') throw badRequest(`_total must be none, estimate or accurate, got '${value}'`, '_total');
      q.total = value;
      return;
    case '_summary':
      if (!['true', 'false', 'count', 'data', 'text'].includes(value)) throw badRequest(`_summary must be true, false, count, data or text, got '${value}'`, '_summary');
      q.summary = value as SearchQuery['summary'];
      return;
    case '_elements':
      q.elements = value.split(',').map((s) => s.trim()).filter(Boolean);
      return;
    case '_include':
    case '_revinclude': {
      if (modifier && modifier !== 'iterate' && modifier !== 'recurse') throw badRequest(`Unknown modifier ${name}:${modifier}`, name);
      const spec = parseInclude(value, modifier !== undefined, name);
      (name === '_include' ? q.include : q.revinclude).push(spec);
      return;
    }
    case '_cursor':
      q.cursor = value;
      return;
    default:
      return; // _format, _pretty, _contained: handled by the HTTP layer or defaults
  }
}

function parseSortKey(resourceType: string, raw: string): SortKey {
  const descending = raw.startsWith('-');
  const code = descending ? raw.slice(1) : raw;
  if (code === '_id' || code === '_lastUpdated') return { code, descending };
  const param = searchParam(resourceType, code);
  if (!param?.kind) throw badRequest(`Unknown sort parameter '${code}' for ${resourceType}`, '_sort');
  return { code, param, descending };
}

function parseInclude(value: string, iterate: boolean, name: string): IncludeSpec {
  if (value === '*') return { sourceType: '*', iterate };
  const [sourceType, code, targetType] = value.split(':');
  if (!sourceType || !isResourceType(sourceType)) throw badRequest(`${name}=${value}: unknown resource type '${sourceType}'`, name);
  if (code === '*') return { sourceType, iterate };
  const param = code ? searchParam(sourceType, code) : undefined;
  if (!param || param.type !== 'reference') throw badRequest(`${name}=${value}: '${code}' is not a reference search parameter of ${sourceType}`, name);
  if (targetType && !isResourceType(targetType)) throw badRequest(`${name}=${value}: unknown target type '${targetType}'`, name);
  return { sourceType, param, targetType, iterate };
}

function parseCriterion(resourceType: string, key: string, value: string, opts: Parsing): Filter | undefined {
  if (key.startsWith('_has:')) return parseHas(resourceType, key, value, opts);
  const dot = key.indexOf('.');
  if (dot > 0) return parseChain(resourceType, key.slice(0, dot), key.slice(dot + 1), value, opts);
  const [code, modifier] = splitOnce(key, ':');
  const param = searchParam(resourceType, code);
  if (!param) return unknown(`Unknown search parameter '${code}' for ${resourceType}`, key, opts);
  if (!param.kind && code !== '_id' && code !== '_lastUpdated') {
    return unknown(`Search parameter '${code}' of type ${param.type} is not supported`, key, opts);
  }
  let mod = modifier;
  if (mod !== undefined && !MODIFIERS_BY_TYPE[param.type]?.has(mod)) {
    if (param.type === 'reference' && isResourceType(mod)) {
      if (param.targets.length > 0 && !param.targets.includes(mod)) throw badRequest(`${code}:${mod}: ${mod} is not a target of ${code}`, key);
    } else {
      throw new FhirError(FhirErrorCode.INVALID, { message: `Modifier ':${mod}' is not supported on ${param.type} parameter '${code}'`, expression: key, code: 'not-supported' });
    }
  }
  if (mod === 'missing') {
    if (value !== 'true' && value !== 'false') throw badRequest(`${key} must be true or false`, key);
    return { kind: 'param', resourceType, param, modifier: mod, values: [{ kind: 'missing', missing: value === 'true' }] };
  }
  if (param.type === 'reference' && mod === 'identifier') {
    const tokenParam: SearchParam = { ...param, code: `${param.code}:identifier`, kind: 'token', type: 'token' };
    const identifiers = splitValues(value).map((v) => parseToken(v));
    // an empty value is ignored, as below (it was an empty SQL list: a 500)
    return identifiers.length ? { kind: 'param', resourceType, param: tokenParam, values: identifiers } : undefined;
  }
  const values = splitValues(value).map((v) => parseValue(param, mod, v, key));
  if (values.length === 0) return undefined; // an empty value is ignored (R4 search.html#errors)
  return { kind: 'param', resourceType, param, modifier: mod, values };
}

/** An unknown or unsupported parameter: an error when strict, else ignored and listed (R4 search.html#errors). */
function unknown(message: string, key: string, opts: Parsing): undefined {
  if (opts.strict) throw new FhirError(FhirErrorCode.INVALID, { message, expression: key, code: 'not-supported' });
  opts.ignored.push({ parameter: key, reason: message });
  return undefined;
}

function parseChain(resourceType: string, left: string, right: string, value: string, opts: Parsing): Filter | undefined {
  const [code, typeModifier] = splitOnce(left, ':');
  const param = searchParam(resourceType, code);
  if (!param || param.type !== 'reference') return unknown(`'${code}' is not a reference parameter of ${resourceType}, so it cannot be chained`, `${left}.${right}`, opts);
  const candidates = typeModifier ? [typeModifier] : param.targets;
  const targets: { type: string; filter: Filter }[] = [];
  for (const type of candidates) {
    if (!isResourceType(type)) throw badRequest(`Unknown resource type '${type}' in chain ${left}.${right}`, `${left}.${right}`);
    const [innerCode] = splitOnce(right.split('.')[0], ':');
    if (!innerCode.startsWith('_has') && !searchParam(type, innerCode)) continue;
    const filter = parseCriterion(type, right, value, { ...opts, strict: true });
    if (filter) targets.push({ type, filter });
  }
  if (targets.length === 0) return unknown(`No target of ${resourceType}.${code} has a search parameter '${right}'`, `${left}.${right}`, opts);
  return { kind: 'chain', resourceType, param, targets };
}

function parseHas(resourceType: string, key: string, value: string, opts: Parsing): Filter | undefined {
  // _has:Observation:patient:code=1234 (http://hl7.org/fhir/R4/search.html#has)
  const parts = key.split(':');
  const [, sourceType, refCode] = parts;
  const rest = parts.slice(3).join(':');
  if (!sourceType || !refCode || !rest) throw badRequest(`Malformed _has parameter '${key}'`, key);
  if (!isResourceType(sourceType)) throw badRequest(`Unknown resource type '${sourceType}' in ${key}`, key);
  const param = searchParam(sourceType, refCode);
  if (!param || param.type !== 'reference') throw badRequest(`'${refCode}' is not a reference parameter of ${sourceType}`, key);
  if (param.targets.length > 0 && !param.targets.includes(resourceType)) throw badRequest(`${sourceType}.${refCode} cannot refer to ${resourceType}`, key);
  const filter = parseCriterion(sourceType, rest, value, { ...opts, strict: true });
  if (!filter) return undefined;
  return { kind: 'has', resourceType, sourceType, param, filter };
}

function parseValue(param: SearchParam, modifier: string | undefined, raw: string, key: string): FilterValue {
  switch (param.type) {
    case 'token':
      if (param.code === '_id') return { kind: 'token', code: raw };
      if (modifier === 'text') return { kind: 'string', value: raw };
      return parseToken(raw);
    case 'string':
      return { kind: 'string', value: raw };
    case 'date': {
      const [prefix, rest] = splitPrefix(raw);
      const range = parseDateRange(rest);
      if (!range) throw badRequest(`Invalid date '${raw}' for parameter '${param.code}'`, key);
      return { kind: 'date', prefix, range };
    }
    case 'number':
    case 'quantity': {
      const [prefix, rest] = splitPrefix(raw);
      const [num, system, code] = splitEscaped(rest, '|');
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(num ?? '')) throw badRequest(`Invalid number '${raw}' for parameter '${param.code}'`, key);
      return { kind: 'number', prefix, value: num, system: system === undefined ? undefined : system || null, code: code || undefined };
    }
    case 'reference': {
      const ref = parseReferenceString(raw);
      if (modifier) return { kind: 'reference', type: modifier, id: ref.id ?? raw };
      if (ref.type && ref.id && !ref.url) return { kind: 'reference', type: ref.type, id: ref.id };
      if (ref.url && /^[A-Za-z0-9\-.]{1,64}$/.test(raw)) return { kind: 'reference', id: raw };
      return { kind: 'reference', url: raw.split('|')[0], type: ref.type, id: ref.id };
    }
    case 'uri':
      return { kind: 'uri', value: raw };
    default:
      throw new FhirError(FhirErrorCode.INVALID, { message: `Parameter type ${param.type} is not supported`, expression: key, code: 'not-supported' });
  }
}

/** A token value: `code`, `system|code`, `|code` (no system) or `system|` (any code), escapes undone (R4 search.html#token). */
export function parseToken(raw: string): Extract<FilterValue, { kind: 'token' }> {
  const parts = splitEscaped(raw, '|');
  if (parts.length === 1) return { kind: 'token', code: parts[0] };
  const [system, code] = parts;
  // |code: no system; system|: any code in the system (R4 search.html#token)
  return { kind: 'token', system: system === '' ? null : system, code: code === '' ? undefined : code };
}

function splitPrefix(raw: string): [Prefix, string] {
  const p = raw.slice(0, 2) as Prefix;
  if (PREFIXES.has(p) && /^[a-z]{2}[\d+-.]/.test(raw)) return [p, raw.slice(2)];
  return ['eq', raw];
}

/** Splits on unescaped commas (OR), then unescapes \, \| \$ \\ (R4 search.html#escaping). */
export function splitValues(value: string): string[] {
  const values = splitEscaped(value, ',').filter((v) => v.length > 0);
  if (values.length > MAX_OR_VALUES) throw badRequest(`A parameter may have at most ${MAX_OR_VALUES} values; this one has ${values.length}`);
  return values;
}

function splitEscaped(value: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && i + 1 < value.length) {
      const next = value[i + 1];
      if (next === sep) {
        cur += next;
        i++;
        continue;
      }
      cur += ch + next;
      i++;
      continue;
    }
    if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return sep === ',' ? out.map(unescapeRest) : out.map(unescapeRest);
}

function unescapeRest(v: string): string {
  return v.replace(/\\([\\$|,])/g, '$1');
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

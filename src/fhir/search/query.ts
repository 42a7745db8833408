import type { SearchParam } from './definitions.js';
import type { DateRange } from './date-range.js';

/** Comparison prefixes of date, number and quantity parameters (http://hl7.org/fhir/R4/search.html#prefix). */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

export type FilterValue =
  | { kind: 'token'; system?: string | null; code?: string }
  | { kind: 'string'; value: string }
  | { kind: 'date'; prefix: Prefix; range: DateRange }
  | { kind: 'reference'; type?: string; id?: string; url?: string }
  | { kind: 'number'; prefix: Prefix; value: string; system?: string | null; code?: string }
  | { kind: 'uri'; value: string }
  | { kind: 'missing'; missing: boolean };

/**
 * One search criterion. Values of one criterion are ORed; criteria are ANDed. `param` is either a
 * search parameter with an index table, or one of the resource columns `_id` / `_lastUpdated`.
 */
export type Filter =
  | { kind: 'param'; resourceType: string; param: SearchParam; modifier?: string; values: FilterValue[] }
  | { kind: 'chain'; resourceType: string; param: SearchParam; targets: { type: string; filter: Filter }[] }
  | { kind: 'has'; resourceType: string; sourceType: string; param: SearchParam; filter: Filter };

export interface SortKey {
  code: string;
  param?: SearchParam;
  descending: boolean;
}

export interface IncludeSpec {
  sourceType: string;
  param?: SearchParam; // undefined for `*`
  targetType?: string;
  iterate: boolean;
}

export interface SearchQuery {
  resourceType: string;
  filters: Filter[];
  sort: SortKey[];
  count: number;
  cursor?: string;
  /**
   * Undefined: the total is given when it costs nothing (a first page that holds every match);
   * `accurate` and `estimate` count every time; `none` never.
   */
  total?: 'none' | 'estimate' | 'accurate';
  summary?: 'true' | 'false' | 'count' | 'data' | 'text';
  elements?: string[];
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  /** The query string of the parameters applied, in request order, for the self link. */
  applied: [string, string][];
  /** Parameters ignored because unknown or unsupported (lenient handling), each with the reason. */
  ignored: IgnoredParameter[];
}

export interface IgnoredParameter {
  /** The parameter as the client wrote it, with any modifier or chain. */
  parameter: string;
  reason: string;
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

import { getExpressionsForResourceType, getSearchParameterDetails, getSearchParameters, parseFhirPath, type SearchParameterDetails } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { loadR4Definitions } from '../definitions.js';
import { compilePath, type PathEvaluator } from './fast-path.js';

/** The index tables a search parameter's values go to. */
export type IndexKind = 'token' | 'string' | 'date' | 'reference' | 'number' | 'uri';

export interface SearchParam {
  code: string;
  type: NonNullable<SearchParameter['type']>;
  kind?: IndexKind;
  definition: SearchParameter;
  details: SearchParameterDetails;
  /** Resource types a reference parameter may point to. */
  targets: string[];
  /**
   * The resource's own properties the expression starts from (`Task.owner` → `owner`; a choice
   * `Observation.value` → `value`, met as `valueQuantity` etc.): when the resource has none of
   * them the parameter has no value and its FHIRPath is not evaluated. Undefined when the
   * expression does not start from properties (`iif(…)`, `%resource`): always evaluated.
   */
  startsFrom?: string[];
  /** The expression compiled to a walk over the JSON, when it is a plain path (fast-path.ts). */
  evaluate?: PathEvaluator;
}

/** Parameters Medplum adds for its own multi-tenancy; not part of R4, so not offered. */
const NOT_OFFERED = new Set(['_compartment', '_project']);
/** Parameters served from columns of the resource table, not from index tables. */
export const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);

const KIND_BY_TYPE: Partial<Record<string, IndexKind>> = {
  token: 'token',
  string: 'string',
  date: 'date',
  reference: 'reference',
  number: 'number',
  quantity: 'number',
  uri: 'uri',
};

const cache = new Map<string, Map<string, SearchParam>>();

/** The R4 search parameters of a resource type, by code (http://hl7.org/fhir/R4/searchparameter-registry.html). */
export function searchParamsFor(resourceType: string): Map<string, SearchParam> {
  let params = cache.get(resourceType);
  if (params) return params;
  loadR4Definitions();
  params = new Map();
  const definitions = { ...getSearchParameters(resourceType), ...commonParameters(resourceType) };
  for (const [code, sp] of Object.entries(definitions)) {
    if (NOT_OFFERED.has(code) || !sp.type || !sp.expression) continue;
    const branches = branchesFor(resourceType, sp.expression);
    params.set(code, {
      code,
      type: sp.type,
      kind: COLUMN_PARAMS.has(code) ? undefined : KIND_BY_TYPE[sp.type],
      definition: sp,
      details: detailsOf(resourceType, sp),
      targets: sp.type === 'reference' ? [...(sp.target ?? [])] : [],
      startsFrom: branches && startingProperties(resourceType, branches),
      evaluate: branches && compilePath(resourceType, branches),
    });
  }
  cache.set(resourceType, params);
  return params;
}

/**
 * The parameters of every resource (http://hl7.org/fhir/R4/search.html#all): _id, _lastUpdated,
 * _tag, _profile, _security, _source, as R4 defines them on Resource, for this type. @medplum/core
 * gives each type its own copy without the canonical URL, and none to Binary, which is a Resource
 * like any other.
 */
function commonParameters(resourceType: string): Record<string, SearchParameter> {
  const out: Record<string, SearchParameter> = {};
  for (const [code, sp] of Object.entries(getSearchParameters('Resource') ?? {})) {
    if (NOT_OFFERED.has(code) || !sp.url || !sp.expression?.startsWith('Resource.')) continue;
    out[code] = { ...sp, base: [resourceType as NonNullable<SearchParameter['base']>[number]], expression: resourceType + sp.expression.slice('Resource'.length) };
  }
  return out;
}

export function searchParam(resourceType: string, code: string): SearchParam | undefined {
  return searchParamsFor(resourceType).get(code);
}

/**
 * @medplum/core derives a parameter's details by walking its expression over the type schema; it
 * cannot walk a computed expression such as iif(…) (our Task `priority-rank`). Such a parameter
 * is evaluated as parsed and treated as possibly repeating.
 */
function detailsOf(resourceType: string, sp: SearchParameter): SearchParameterDetails {
  try {
    return getSearchParameterDetails(resourceType, sp);
  } catch {
    return { type: 'TEXT', parsedExpression: parseFhirPath(sp.expression!), array: true } as SearchParameterDetails;
  }
}

/** The union branches of an expression that apply to this type, as text; undefined when they cannot be told. */
function branchesFor(resourceType: string, expression: string): string[] | undefined {
  try {
    const branches = (getExpressionsForResourceType(resourceType, expression) ?? []).map(String);
    return branches.length ? branches : undefined;
  } catch {
    return undefined;
  }
}

/** See `SearchParam.startsFrom`: the first property of every union branch for this type, or undefined. */
function startingProperties(resourceType: string, branches: string[]): string[] | undefined {
  const out = new Set<string>();
  for (const b of branches) {
    const p = startingProperty(resourceType, b);
    if (!p) return undefined;
    out.add(p);
  }
  return [...out];
}

/** Functions that give nothing on an empty input, whatever their arguments. */
const EMPTY_IN_EMPTY_OUT = new Set(['where', 'ofType', 'as', 'resolve', 'first', 'last', 'select', 'extension']);

/**
 * The property a branch starts from, when the branch is a navigation that is empty whenever that
 * property is absent: `Type.a.b`, `.where(…)`, `.ofType(…)`, ` as X`, in parentheses. Anything
 * else (`exists()`, `and`, `!=`, `iif`) may have a value without it: undefined.
 */
function startingProperty(resourceType: string, branch: string): string | undefined {
  const m = new RegExp(`^(\\(*)${resourceType}\\.([a-zA-Z][a-zA-Z0-9]*)`).exec(branch);
  if (!m) return undefined;
  let open = m[1].length;
  let i = m[0].length;
  while (i < branch.length) {
    if (branch[i] === ')' && open > 0) {
      open--;
      i++;
      continue;
    }
    const step = /^\.([a-zA-Z][a-zA-Z0-9]*)/.exec(branch.slice(i)) ?? /^ as [A-Za-z]+/.exec(branch.slice(i));
    if (!step) return undefined;
    i += step[0].length;
    if (branch[i] !== '(') continue;
    if (!EMPTY_IN_EMPTY_OUT.has(step[1])) return undefined;
    // skip the call's balanced arguments
    for (let depth = 0; i < branch.length; i++) {
      if (branch[i] === '(') depth++;
      else if (branch[i] === ')' && --depth === 0) break;
    }
    i++;
  }
  return open === 0 ? m[2] : undefined;
}

import { getSearchParameterDetails, getSearchParameters, parseFhirPath, type SearchParameterDetails } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { loadR4Definitions } from '../definitions.js';

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
  for (const [code, sp] of Object.entries(getSearchParameters(resourceType) ?? {})) {
    if (NOT_OFFERED.has(code) || !sp.type || !sp.expression) continue;
    params.set(code, {
      code,
      type: sp.type,
      kind: COLUMN_PARAMS.has(code) ? undefined : KIND_BY_TYPE[sp.type],
      definition: sp,
      details: detailsOf(resourceType, sp),
      targets: sp.type === 'reference' ? [...(sp.target ?? [])] : [],
    });
  }
  cache.set(resourceType, params);
  return params;
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

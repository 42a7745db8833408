import type { Bundle } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import type { Mapped, PartnerFormat, Payload } from '../format.js';
import { partnerMappings, type PartnerMappings } from '../mapping-data.js';
import { runStructureMap } from '../transform.js';
import { pemDefects, type PemConceptMaps } from './pem-defects.js';
import { PEM_MODEL_NAME } from './pem-model.js';
import { readPem } from './pem-reader.js';

/**
 * `nhs111-pem` (read only): an NHS 111 Post Event Message becomes a Stepwise referral-request
 * message carrying a crisis referral, which the front door admits like any other referral
 * (mappings/nhs111-pem/README.md). Three steps: read the XML into the logical model (code), name
 * its defects (code), map the model to FHIR (maps/nhs111-pem-to-fhir.map).
 */
export const nhs111PemFormat: PartnerFormat = {
  name: 'nhs111-pem',
  mediaType: 'application/xml',
  read: async (payload: Payload): Promise<Mapped<Bundle>> => readNhs111Pem(payload),
};

export function readNhs111Pem(payload: Payload): Mapped<Bundle> {
  if (typeof payload !== 'string') {
    throw new FhirError(FhirErrorCode.INVALID, 'An NHS 111 Post Event Message is one XML document, not a set of tables');
  }
  const { pem, at, issues } = readPem(payload);
  const mapping = partnerMappings('nhs111-pem');
  const defects = pemDefects(pem, at, conceptMapsOf(mapping));
  const map = mapping.structureMaps.get('nhs111-pem-to-fhir');
  if (!map) throw new Error('mappings/nhs111-pem has no maps/nhs111-pem-to-fhir.map');
  // the engine would make the target Bundle without its resourceType: it is given one
  const target = { type: 'Bundle', value: { resourceType: 'Bundle' } as Bundle };
  const result = runStructureMap(map, { type: PEM_MODEL_NAME, value: pem }, target, mapping.transformMaps);
  return { result, issues: [...issues, ...defects] };
}

function conceptMapsOf(mapping: PartnerMappings): PemConceptMaps {
  const byId = (id: string) => {
    const map = mapping.conceptMaps.find((m) => m.id === id);
    if (!map) throw new Error(`mappings/nhs111-pem has no ConceptMap ${id}`);
    return map;
  };
  return { dispositionPriority: byId('nhs111-disposition-priority'), gender: byId('nhs111-person-gender'), telecomUse: byId('nhs111-telecom-use') };
}

import type { MessageDefinition } from '@medplum/fhirtypes';
import { FhirErrorCode } from '../errors.js';
import { BARS, barsError } from './bars.js';
import type { MessageCatalogue } from './catalogue.js';

const SERVICE_SYSTEMS = new Set<string>([BARS.dosServiceId, BARS.dosIdCodeSystem]);

/**
 * GET MessageDefinition?context=… (BaRS API): `context` tokens name the DoS service id
 * (`https://fhir.nhs.uk/Id/dos-service-id|2000072001` or just the value) and optionally a use case
 * (`https://fhir.nhs.uk/CodeSystem/usecases-categories-bars|a1t1`). No service: 400; a service not
 * hosted here: 404.
 */
export function searchMessageDefinitions(catalogue: MessageCatalogue, contexts: string[]): MessageDefinition[] {
  const tokens = contexts.flatMap((c) => c.split(',')).map((t) => t.trim()).filter(Boolean);
  if (tokens.length === 0) {
    throw barsError(FhirErrorCode.INVALID, { code: 'required', expression: 'context', message: `The context parameter is required: the DoS service id, e.g. context=${BARS.dosServiceId}|2000072001` });
  }
  const serviceIds: string[] = [];
  const useCases: string[] = [];
  for (const token of tokens) {
    const bar = token.indexOf('|');
    const system = bar >= 0 ? token.slice(0, bar) : undefined;
    const value = bar >= 0 ? token.slice(bar + 1) : token;
    if (system === BARS.useCases || (system === undefined && !/^\d+$/.test(value))) useCases.push(value);
    else if (system === undefined || SERVICE_SYSTEMS.has(system)) serviceIds.push(value);
    else throw barsError(FhirErrorCode.INVALID, { code: 'value', expression: 'context', message: `context system ${system} is not known; use ${BARS.dosServiceId} or ${BARS.useCases}` });
  }
  if (serviceIds.length === 0) {
    throw barsError(FhirErrorCode.INVALID, { code: 'required', expression: 'context', message: `context must name a DoS service id (${BARS.dosServiceId}|…); found only use cases ${useCases.join(', ')}` });
  }
  const out: MessageDefinition[] = [];
  for (const id of serviceIds) {
    const service = catalogue.service(id);
    if (!service) throw barsError(FhirErrorCode.NOT_FOUND, { code: 'not-found', expression: 'context', message: `No service with DoS id ${id} is hosted here` });
    if (useCases.length === 0) out.push(...catalogue.forService(service));
    else for (const u of useCases) out.push(...catalogue.forService(service, u));
  }
  return out;
}

import type { MessageDefinition } from '@medplum/fhirtypes';
import { BARS } from './bars.js';
import { refuse } from './refusals.js';
import type { MessageCatalogue } from './catalogue.js';

/** The DoS service id's systems: the BaRS identifier system, the older dos-id code system, and either written with http:. */
const SERVICE_SYSTEMS = new Set<string>([BARS.dosServiceId, BARS.dosIdCodeSystem].flatMap((s) => [s, s.replace(/^https:/, 'http:')]));

/**
 * GET MessageDefinition?context=… (BaRS API): `context` tokens name the DoS service id
 * (`https://fhir.nhs.uk/Id/dos-service-id|2000072001` or just the value) and optionally a use case
 * (`https://fhir.nhs.uk/CodeSystem/usecases-categories-bars|a1t1`), in one parameter or several. No
 * service: 400; a service not hosted here: 404.
 */
export function searchMessageDefinitions(catalogue: MessageCatalogue, contexts: string[]): MessageDefinition[] {
  // Senders URL-encode a second parameter into the first (context=a|b%26context=c|d): read both.
  const tokens = contexts
    .flatMap((c) => c.split(/&context=/))
    .flatMap((c) => c.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  if (tokens.length === 0) {
    throw refuse('missing', { expression: 'context', message: `The context parameter is required: the DoS service id, e.g. context=${BARS.dosServiceId}|2000072001` });
  }
  const serviceIds: string[] = [];
  const useCases: string[] = [];
  for (const token of tokens) {
    const bar = token.indexOf('|');
    const system = bar >= 0 ? token.slice(0, bar) : undefined;
    const value = bar >= 0 ? token.slice(bar + 1) : token;
    if (system === BARS.useCases || (system === undefined && catalogue.isUseCase(value))) useCases.push(value);
    else if ((system === undefined && /^\d+$/.test(value)) || (system !== undefined && SERVICE_SYSTEMS.has(system))) serviceIds.push(value);
    else if (system === undefined) throw refuse('malformed', { expression: 'context', message: `context '${value}' is neither a DoS service id nor a use case of ${BARS.useCases}` });
    else throw refuse('malformed', { expression: 'context', message: `context system ${system} is not known; use ${BARS.dosServiceId} or ${BARS.useCases}` });
  }
  if (serviceIds.length === 0) {
    throw refuse('missing', { expression: 'context', message: `context must name a DoS service id (${BARS.dosServiceId}|…); found only use cases ${useCases.join(', ')}` });
  }
  const out: MessageDefinition[] = [];
  for (const id of serviceIds) {
    const service = catalogue.service(id);
    if (!service) throw refuse('unknownService', { expression: 'context', message: `No service with DoS id ${id} is hosted here` });
    out.push(...catalogue.forService(service, useCases));
  }
  return out;
}

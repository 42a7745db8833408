import type { CapabilityStatement, CapabilityStatementRest, CapabilityStatementRestResource, CapabilityStatementRestResourceOperation } from '@medplum/fhirtypes';
import { searchParamsFor } from '../../fhir/search/definitions.js';
import { isResourceType, offersInteraction, resourceTypes } from '../../fhir/resource-types.js';
import type { Handler } from './context.js';

export const SOFTWARE_VERSION = '0.1.0';

type TypeInteraction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];
type SystemInteraction = NonNullable<CapabilityStatementRest['interaction']>[number]['code'];

/** What a resource type's routes promise beyond their interactions (CapabilityStatement.rest.resource). */
export type ResourceFlags = Pick<
  CapabilityStatementRestResource,
  'versioning' | 'readHistory' | 'updateCreate' | 'conditionalCreate' | 'conditionalRead' | 'conditionalUpdate' | 'conditionalDelete'
>;

/**
 * What one route serves, in the terms of http://hl7.org/fhir/R4/capabilitystatement.html. A route
 * at `:type…` offers it for every resource type, at `Type/…` for that type, and anywhere else at
 * system level.
 */
export type Offer =
  | { interaction: TypeInteraction | SystemInteraction }
  | { operation: CapabilityStatementRestResourceOperation }
  | { supports: ResourceFlags };

export interface OfferingRoute {
  method: string;
  pattern: string;
  offers: readonly Offer[];
}

export const interaction = (code: TypeInteraction | SystemInteraction): Offer => ({ interaction: code });
export const operation = (name: string, definition: string): Offer => ({ operation: { name, definition } });
export const supports = (flags: ResourceFlags): Offer => ({ supports: flags });

const SYSTEM_INTERACTIONS = new Set<string>(['transaction', 'batch', 'search-system', 'history-system']);

/**
 * GET metadata (http://hl7.org/fhir/R4/http.html#capabilities): generated from the route table and
 * the search index, so it declares what the router serves and nothing else.
 */
export function capabilitiesOf(routes: () => readonly OfferingRoute[]): Handler {
  let cached: { baseUrl: string; statement: CapabilityStatement } | undefined;
  return async (ctx) => {
    if (cached?.baseUrl !== ctx.baseUrl) cached = { baseUrl: ctx.baseUrl, statement: capabilityStatement(ctx.baseUrl, routes()) };
    // how to get a token (SMART on FHIR), when authentication is on
    const statement = ctx.security ? { ...cached.statement, rest: cached.statement.rest!.map((rest) => ({ ...rest, security: ctx.security })) } : cached.statement;
    return { status: 200, headers: {}, body: statement };
  };
}

interface Offered {
  interactions: Set<string>;
  operations: Map<string, CapabilityStatementRestResourceOperation>;
  flags: ResourceFlags;
}

const nothingOffered = (): Offered => ({ interactions: new Set(), operations: new Map(), flags: {} });

export function capabilityStatement(baseUrl: string, routes: readonly OfferingRoute[]): CapabilityStatement {
  const types = [...resourceTypes()].sort();
  const system = nothingOffered();
  const byType = new Map(types.map((t) => [t, nothingOffered()]));
  for (const route of routes) {
    const first = route.pattern.split('/')[0];
    const served = first === ':type' ? types : isResourceType(first) ? [first] : undefined;
    for (const offer of route.offers) {
      if (!served) addSystemOffer(system, offer, route);
      else for (const type of served) if (!('interaction' in offer) || offersInteraction(type, offer.interaction)) addOffer(byType.get(type)!, offer);
    }
  }
  const rest: CapabilityStatementRest = {
    mode: 'server',
    ...nonEmpty('interaction', [...system.interactions].map((code) => ({ code: code as SystemInteraction }))),
    ...nonEmpty('operation', [...system.operations.values()]),
    ...nonEmpty('resource', types.filter((t) => byType.get(t)!.interactions.size > 0).map((t) => resourceCapability(t, byType.get(t)!))),
  };
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'Stepwise',
    kind: 'instance',
    software: { name: 'Stepwise', version: SOFTWARE_VERSION },
    implementation: { description: 'Stepwise FHIR server for community mental health pathways', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json', 'application/fhir+xml', 'xml'],
    patchFormat: ['application/json-patch+json'],
    rest: [rest],
  };
}

function addOffer(offered: Offered, offer: Offer): void {
  if ('interaction' in offer) offered.interactions.add(offer.interaction);
  else if ('operation' in offer) offered.operations.set(offer.operation.name, offer.operation);
  else Object.assign(offered.flags, offer.supports);
}

/** A route outside any type offers system interactions and operations only: anything else is a mistake in the route table. */
function addSystemOffer(system: Offered, offer: Offer, route: OfferingRoute): void {
  if (('interaction' in offer && !SYSTEM_INTERACTIONS.has(offer.interaction)) || 'supports' in offer) {
    throw new Error(`Route ${route.method} /${route.pattern} is at system level but offers ${JSON.stringify(offer)}`);
  }
  addOffer(system, offer);
}

function resourceCapability(type: string, offered: Offered): CapabilityStatementRestResource {
  const capability: CapabilityStatementRestResource = {
    type: type as CapabilityStatementRestResource['type'],
    interaction: [...offered.interactions].map((code) => ({ code: code as TypeInteraction })),
    ...offered.flags,
    referencePolicy: ['literal', 'local'],
  };
  if (offered.interactions.has('search-type')) {
    const params = [...searchParamsFor(type).values()].filter((p) => p.kind || p.code === '_id' || p.code === '_lastUpdated');
    const references = params.filter((p) => p.type === 'reference');
    capability.searchInclude = ['*', ...references.map((p) => `${type}:${p.code}`)];
    capability.searchRevInclude = ['*'];
    Object.assign(capability, nonEmpty('searchParam', params.map((p) => ({ name: p.code, definition: p.definition.url, type: p.type }))));
  }
  return { ...capability, ...nonEmpty('operation', [...offered.operations.values()]) };
}

/** `{ [name]: list }`, or nothing for an empty list: FHIR has no empty arrays (http://hl7.org/fhir/R4/json.html#arrays). */
function nonEmpty<K extends string, T>(name: K, list: T[]): { [P in K]?: T[] } {
  return (list.length ? { [name]: list } : {}) as { [P in K]?: T[] };
}

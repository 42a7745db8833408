import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { searchParamsFor } from '../../fhir/search/definitions.js';
import { resourceTypes } from '../../fhir/resource-types.js';
import type { Handler } from './context.js';

export const SOFTWARE_VERSION = '0.1.0';

let cached: { baseUrl: string; statement: CapabilityStatement } | undefined;

/**
 * GET metadata (http://hl7.org/fhir/R4/http.html#capabilities): generated from what the router
 * and the search index really do, so it cannot promise more than is implemented.
 */
export const capabilities: Handler = async (ctx) => {
  if (cached?.baseUrl !== ctx.baseUrl) cached = { baseUrl: ctx.baseUrl, statement: buildStatement(ctx.baseUrl) };
  return { status: 200, headers: {}, body: cached.statement };
};

function buildStatement(baseUrl: string): CapabilityStatement {
  const types = [...resourceTypes()].sort();
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
    rest: [
      {
        mode: 'server',
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        operation: [
          { name: 'process-message', definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message' },
          { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
        ],
        resource: types.map(resourceCapability),
      },
    ],
  };
}

function resourceCapability(type: string): CapabilityStatementRestResource {
  const params = [...searchParamsFor(type).values()].filter((p) => p.kind || p.code === '_id' || p.code === '_lastUpdated');
  const references = params.filter((p) => p.type === 'reference');
  return {
    type: type as CapabilityStatementRestResource['type'],
    interaction: ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'].map((code) => ({ code: code as 'read' })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'not-supported',
    conditionalUpdate: true,
    conditionalDelete: 'single',
    referencePolicy: ['literal', 'local'],
    searchInclude: ['*', ...references.map((p) => `${type}:${p.code}`)],
    searchRevInclude: ['*'],
    searchParam: params.map((p) => ({ name: p.code, definition: p.definition.url, type: p.type })),
    operation: [
      { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
      ...(type === 'PlanDefinition' ? [{ name: 'apply', definition: 'http://hl7.org/fhir/OperationDefinition/PlanDefinition-apply' }] : []),
    ],
  };
}

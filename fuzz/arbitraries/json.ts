import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import type { FuzzRequest } from '../request.js';
import { A_IDS, B_IDS, TEAM_A } from '../world.js';
import { mutateText, mutateTree, textMutation, treeMutation } from './mutate.js';
import { anyJson, REFERENCES, URL_IDS } from './values.js';

/*
 * JSON bodies: valid resources of team A's kinds, Bundles and JSON Patches, mutated in their tree
 * and in their text, sent to the interactions that read a body (create, update, patch, batch and
 * transaction, $validate, Task operations).
 */

const subject = { reference: `Patient/${A_IDS.patient}` };
const teamExtension = [{ url: 'https://stepwise.nhs.uk/StructureDefinition/task-team', valueReference: { reference: `Organization/${TEAM_A}` } }];

const RESOURCES: Resource[] = [
  { resourceType: 'Patient', name: [{ family: 'Fuzz', given: ['A'] }], birthDate: '1990-01-01', gender: 'other', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }] },
  { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '44249-1' }] }, subject, valueQuantity: { value: 12, unit: 'score' }, effectiveDateTime: '2026-03-01' },
  { resourceType: 'Task', status: 'requested', intent: 'order', priority: 'routine', for: subject, owner: { reference: `Organization/${TEAM_A}` }, extension: teamExtension },
  { resourceType: 'Condition', subject, code: { text: 'anxiety' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } },
  { resourceType: 'CareTeam', status: 'active', subject, participant: [{ member: { reference: `Organization/${TEAM_A}` } }] },
  { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: '2026-03-01T00:00:00Z', agent: [{ requestor: true, who: { display: 'x' } }], source: { observer: { display: 'x' } } },
] as Resource[];

const bundleOf = (type: 'batch' | 'transaction'): Resource =>
  ({
    resourceType: 'Bundle',
    type,
    entry: [
      { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001', resource: RESOURCES[0], request: { method: 'POST', url: 'Patient' } },
      { resource: RESOURCES[1], request: { method: 'PUT', url: `Observation/${A_IDS.observation}` } },
      { request: { method: 'GET', url: `Patient/${B_IDS.patient}` } },
      { request: { method: 'GET', url: `Observation?subject=Patient/${B_IDS.patient}` } },
      { request: { method: 'DELETE', url: `Condition/${A_IDS.condition}`, ifMatch: 'W/"1"' } },
    ],
  }) as Resource;

const PATCH_PATHS = ['/name', '/name/0', '/name/-', '/name/0/extension', '/active', 'active', '/__proto__/x', '', '/', '/a~1b', '/name/99', '/id', '/resourceType', '/meta/versionId'];
const jsonPatch = fc.array(
  fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'copy', 'move', 'test', 'nonsense'), path: fc.constantFrom(...PATCH_PATHS), from: fc.option(fc.constantFrom(...PATCH_PATHS), { nil: undefined }), value: fc.option(anyJson, { nil: undefined }) }, { requiredKeys: ['op'] }),
  { maxLength: 24 },
);

/** Where a body goes, for a resource of `type`. */
const route = (type: string) =>
  fc.oneof(
    fc.constant({ method: 'POST', path: type }),
    fc.constantFrom(...URL_IDS).map((id) => ({ method: 'PUT', path: `${type}/${id}` })),
    fc.constant({ method: 'POST', path: `${type}/$validate` }),
    fc.constantFrom('$claim', '$release', '$accept', '$reject', '$complete').map((op) => ({ method: 'POST', path: `Task/${A_IDS.task}/${op}` })),
    fc.constant({ method: 'PUT', path: `${type}?name=Fuzz` }),
  );

const resourceBody = fc
  .tuple(fc.constantFrom(...RESOURCES), fc.array(treeMutation, { maxLength: 3 }), textMutation, fc.constantFrom(...REFERENCES))
  .chain(([resource, tree, text, reference]) => {
    const mutated = mutateTree(resource, tree) as Record<string, unknown>;
    if (mutated && typeof mutated === 'object' && 'subject' in mutated) mutated.subject = { reference };
    return route(resource.resourceType).map((r) => ({ ...r, body: mutateText(JSON.stringify(mutated), text) }));
  });

const bundleBody = fc.tuple(fc.constantFrom<'batch' | 'transaction'>('batch', 'transaction'), fc.array(treeMutation, { maxLength: 4 }), textMutation).map(([type, tree, text]) => ({
  method: 'POST',
  path: '',
  body: mutateText(JSON.stringify(mutateTree(bundleOf(type), tree)), text),
}));

const patchBody = fc.tuple(jsonPatch, fc.constantFrom(`Patient/${A_IDS.patient}`, `Observation/${A_IDS.observation}`, `Patient/${B_IDS.patient}`, 'Patient?name=Alphafuzz', 'Patient/nope'), textMutation).map(([ops, path, text]) => ({
  method: 'PATCH',
  path,
  body: mutateText(JSON.stringify(ops), text),
  contentType: 'application/json-patch+json',
}));

/** Random JSON where a resource is expected. */
const anyBody = fc.tuple(anyJson, fc.constantFrom('Patient', 'Observation', '', 'Task/$validate')).map(([value, path]) => ({ method: 'POST', path, body: JSON.stringify(value) ?? '' }));

const CONTENT_TYPES = ['application/fhir+json', 'application/fhir+json', 'application/fhir+json', 'application/fhir+json', 'application/json', 'application/fhir+json; charset=utf-8', 'text/plain', 'application/fhir+json; charset=utf-16'];

export const jsonRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.oneof({ weight: 5, arbitrary: resourceBody }, { weight: 2, arbitrary: bundleBody }, { weight: 2, arbitrary: patchBody }, { weight: 1, arbitrary: anyBody }), fc.constantFrom(...CONTENT_TYPES), fc.constantFrom('', '', '?_format=json', '?_pretty=true', '?_summary=true'))
  .map(([r, contentType, query]) => ({
    kind: 'json' as const,
    method: r.method,
    path: r.path + (r.path.includes('?') ? query.replace('?', '&') : query),
    headers: { 'Content-Type': 'contentType' in r ? (r.contentType as string) : contentType },
    body: r.body,
  }));

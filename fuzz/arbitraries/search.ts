import fc from 'fast-check';
import type { FuzzRequest } from '../request.js';
import { A_IDS, B_IDS } from '../world.js';
import { HOSTILE_STRINGS, RESOURCE_TYPES, URL_IDS } from './values.js';

/*
 * Search parameters and URLs: real parameter names with modifiers, chains, _has, _include and
 * _revinclude, result parameters, crafted cursors, values from the hostile pool; the query is
 * written raw, so broken percent-encoding reaches the server as a client could send it. Reads,
 * vreads and histories of team A's and team B's ids are among them.
 */

const NAMES = [
  'name', 'family', 'given', 'identifier', 'birthdate', 'gender', 'subject', 'patient', 'status', 'code', 'owner', 'team', 'focus', 'for', 'date', 'value-quantity',
  '_id', '_lastUpdated', '_tag', '_profile', '_text', '_content', '_list', '_filter', '_query', 'agent', 'entity', 'participant', 'requester', 'x', '', '%ZZ',
];
const MODIFIERS = ['', '', '', ':exact', ':contains', ':missing', ':not', ':text', ':above', ':below', ':identifier', ':Patient', ':of-type', ':nonsense', ':'];
const CHAINS = ['', '', '', '', '.name', '.family', '.identifier', `:Patient.name`, '.subject.name', '.partof.partof.partof.name', '.owner.partof.name', '.', '..'];
const PREFIXES = ['', '', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'zz'];
const RESULT = [
  '_count=0', '_count=-1', '_count=1000000', '_count=x', '_sort=name', '_sort=-_lastUpdated', '_sort=;DROP', '_sort=nonsense', '_total=accurate', '_total=none',
  '_summary=count', '_summary=true', '_summary=x', '_elements=id,name', '_elements=__proto__', '_include=Observation:subject', '_include=*', '_include=Task:patient:Patient',
  '_revinclude=Observation:subject', '_revinclude=*', '_revinclude=AuditEvent:patient', '_include:iterate=*', '_has:Observation:subject:code=mood', '_has:Task:patient:status=requested',
  '_has:Observation:patient:_has:Condition:subject:code=x', '_cursor=x', '_cursor=eyJ2IjpbOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTldfQ', '_cursor=%ZZ', '_cursor=W10', '_format=xml', '_format=x',
  '_pretty=true', '_since=2020-01-01', '_at=x',
];
const VALUES = [
  ...HOSTILE_STRINGS.slice(0, 26), 'Alphafuzz', 'Bravo', 'Kes', 'mood', 'requested', 'https://fhir.nhs.uk/Id/nhs-number|', '|x', 'x|', '|', ',', 'a,b,,c', 'Organization/crisis-team', 'Organization/cmht',
  `Patient/${A_IDS.patient}`, `Patient/${B_IDS.patient}`, B_IDS.patient, 'Organization/front-door-team', '2026', '2026-03-02T09:00:00Z', '2026-03', '5||kg', '1e400', 'null', '*',
];

/** Percent-encoded, or raw on purpose; a lone surrogate cannot be encoded and goes raw. */
function encodeSome(s: string, raw: boolean): string {
  if (raw) return s;
  try {
    return encodeURIComponent(s);
  } catch {
    return s;
  }
}

const parameter = fc
  .record({ name: fc.constantFrom(...NAMES), chain: fc.constantFrom(...CHAINS), modifier: fc.constantFrom(...MODIFIERS), prefix: fc.constantFrom(...PREFIXES), value: fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 8 })), raw: fc.boolean() })
  .map((p) => `${p.name}${p.modifier}${p.chain}=${p.prefix}${encodeSome(p.value, p.raw)}`);

const query = fc.array(fc.oneof({ weight: 3, arbitrary: parameter }, { weight: 1, arbitrary: fc.constantFrom(...RESULT) }), { maxLength: 5 }).map((ps) => ps.join('&'));

const typeOrSystem = fc.constantFrom(...RESOURCE_TYPES, '', '_history');

/** Reads, vreads and histories, by the ids of both teams and odd ones. */
const instancePath = fc
  .tuple(fc.constantFrom('Patient', 'Observation', 'Task', 'CareTeam', 'Condition', 'Encounter', 'Flag', 'ServiceRequest', 'AuditEvent', 'Provenance'), fc.constantFrom(...URL_IDS), fc.constantFrom('', '', '/_history', '/_history/1', '/_history/2', '/_history/x', '/$everything', '/$validate', '/%ZZ', '/_history/%00'))
  .map(([type, id, tail]) => `${type}/${id}${tail}`);

const searchPath = fc.tuple(typeOrSystem, fc.constantFrom('', '', '/_search', '/_history'), query).map(([type, tail, q]) => `${type}${tail}${q ? `?${q}` : ''}`);

export const searchRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.oneof({ weight: 4, arbitrary: searchPath }, { weight: 2, arbitrary: instancePath }, { weight: 1, arbitrary: fc.constantFrom('Patient/%ZZ', '%ZZ', '%', 'Patient/a%2Fb', 'metadata', '.well-known/smart-configuration', 'Patient//x', '//', 'Patient/x/y/z/w', '$meta', 'Patient/$everything') }), fc.constantFrom('GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'PUT', 'PATCH'), fc.constantFrom('', '', '', 'application/fhir+json', 'application/fhir+xml', '*/*', 'text/html'))
  .map(([path, method, accept]) => {
    const isSearchPost = method === 'POST' && path.includes('_search');
    const [base, form] = isSearchPost ? splitQuery(path) : [path, undefined];
    const headers: Record<string, string> = accept ? { Accept: accept } : {};
    if (form !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const needsBody = method === 'POST' || method === 'PUT';
    return { kind: 'search' as const, method, path: base, headers, body: form ?? (needsBody ? '' : undefined) };
  });

function splitQuery(path: string): [string, string] {
  const i = path.indexOf('?');
  return i < 0 ? [path, ''] : [path.slice(0, i), path.slice(i + 1)];
}

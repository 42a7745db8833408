import fc from 'fast-check';
import { A_IDS, B_IDS, B_NHS_NUMBER } from '../world.js';

/*
 * The pools the generators draw from: hostile scalars, references, names. Constants and short
 * strings only, so that generating a case costs microseconds and the run's time goes to the server.
 */

/** Strings that have broken servers: NUL, lone surrogates, RTL marks, SQL, paths, long text. */
export const HOSTILE_STRINGS = [
  '', ' ', 'a\u0000b', '\u0000', '\ud800', '\udfff x', '\u202e🧠﷽', 'Zoë', '\\', '"', "'", "' OR 1=1;--", '1;DROP TABLE resource',
  '%', '%ZZ', '%00', '%E0%A4%A', '../../etc/passwd', '<script>alert(1)</script>', '${jndi:ldap://x}', '{{7*7}}', '__proto__', 'constructor',
  'prototype', 'toString', 'null', 'undefined', 'NaN', '-0', '1e400', '99999999999999999999999', '2026-02-30', '2026-13-01T25:61:00Z',
  '\t\n\r', 'x'.repeat(300), 'é'.repeat(120),
];

/** References a body may carry: team A's, none, odd, conditional; never team B's ids (a write naming B's person would put them on A's caseload, which the compartment rules allow). */
export const REFERENCES = [
  `Patient/${A_IDS.patient}`, `Observation/${A_IDS.observation}`, `Task/${A_IDS.task}`, 'Patient/does-not-exist', 'Organization/cmht', 'Organization/crisis-team',
  'Organization/front-door-team', '#contained', 'urn:uuid:00000000-0000-4000-8000-000000000001', 'http://evil.example/Patient/1', 'Patient/../x', 'Patient/',
  '/Patient/x', 'Patient/%ZZ', `Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${B_NHS_NUMBER}`, 'Patient?name=Alphafuzz', 'Patient?_id=x&_id=y', '',
];

/** Ids a URL may aim at: team A's, team B's (which team A must not see), missing, malformed. */
export const URL_IDS = [...Object.values(A_IDS), ...Object.values(B_IDS), 'nope', 'a'.repeat(64), 'a'.repeat(65), '%ZZ', '%00', '..', '$everything', '_history', '-', 'Patient'];

export const RESOURCE_TYPES = ['Patient', 'Observation', 'Task', 'Condition', 'CareTeam', 'ServiceRequest', 'Encounter', 'Flag', 'Organization', 'AuditEvent', 'Provenance', 'PlanDefinition', 'StructureDefinition', 'Bundle', 'MessageHeader', 'Nonsense', 'patient', 'Resource', 'DomainResource'];

export const hostileString = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 8 }));

/** Any JSON value at all, kept small. */
export const anyJson = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 2 ** 53 + 1, -1e308, 1e-320, [], {}, [null], { '': '' }, { value: 'x' }) },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(...REFERENCES).map((reference) => ({ reference })) },
);

/** Deep nesting, past MAX_NESTING_DEPTH (64) at times. */
export const deepJson = fc.integer({ min: 1, max: 80 }).map((depth) => {
  let v: unknown = { url: 'u', valueString: 'x' };
  for (let i = 0; i < depth; i++) v = { url: 'u', extension: [v] };
  return v;
});

/** Header values a client can send (visible ASCII and Latin-1: fetch refuses anything else). */
export const headerValue = fc.oneof(
  fc.constantFrom('', ' ', 'x', '%ZZ', "' OR 1=1", 'e30=', 'bnVsbA==', 'W10=', 'eyJzeXN0ZW0iOjF9', '!!!notbase64', '{"system":"x"}', 'a'.repeat(2000), 'ÿþ'),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
);

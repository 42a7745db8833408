import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../src/cli/definitions-from-files.js';
import { parseReferenceString } from '../src/fhir/search/reference.js';
import { createServerValidator } from '../src/fhir/server-validator.js';
import { readFhirJson } from '../src/fhir/validation/index.js';
import { parseFhirXml } from '../src/fhir/xml/index.js';
import { StoredConformance } from '../src/pipeline/stored-conformance.js';

/**
 * How often Stepwise's verdict agrees with the HL7 reference validator's on the R4 cases of
 * FHIR/fhir-test-cases (issue 15). The suite is not kept in this repository: give a checkout's
 * `validator` folder. Each case is validated as `$validate` does (the server's validator, the case's
 * supporting resources stored first, unknown extensions are errors) and agrees when both or neither
 * find an error (severity error or fatal) in the reference's `java` outcome.
 *
 *   node --import tsx scripts/hl7-agreement.ts <fhir-test-cases>/validator [--set base|profile] [--only name] [--list] [--issues] [--http http://127.0.0.1:8080/fhir]
 *
 * With `--http`, each case goes to a running server instead (judgeOverHttp): what an integrator
 * sees, without the reference's options that only the library takes (bundle-param, extension domains,
 * security-checks, examples, noHtmlInMarkdown, allow-comments, validateContains).
 *
 * `base`: R4 cases without a `profile` step, a logical model, a matchetype or an external package.
 * `profile`: R4 cases with a `profile` step, supporting profiles, or in the profile, sd and
 * extensions modules (those needing packages left out); a `profile` step is judged by its own outcome.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { set: { type: 'string', default: 'base' }, only: { type: 'string' }, list: { type: 'boolean' }, issues: { type: 'boolean' }, http: { type: 'string' } },
});
const dir = positionals[0];
if (!dir || !existsSync(join(dir, 'manifest.json'))) {
  console.error('usage: hl7-agreement.ts <fhir-test-cases>/validator [--set base|profile] [--only name] [--list] [--issues]');
  process.exit(2);
}

type Expected = string | { errorCount?: number; outcome?: { issue?: { severity: string }[] } };
interface ProfileStep {
  source: string;
  supporting?: string[];
  packages?: string[];
  java?: Expected;
}
interface Case {
  name: string;
  file: string;
  version?: string;
  module?: string;
  java?: Expected;
  supporting?: string[];
  /** Supporting files written in R5 syntax that the reference converts; loaded like the others. */
  supporting5?: string[];
  profiles?: string[];
  'bundle-param'?: { rule: string; profile: string };
  profile?: ProfileStep;
  logical?: string;
  matchetype?: unknown;
  packages?: string[];
  'use-test'?: boolean;
  'allowed-extension-domain'?: string | string[];
  /** The reference's validator options that Stepwise also takes (ValidateOptions, readFhirJson). */
  'security-checks'?: boolean;
  examples?: boolean;
  noHtmlInMarkdown?: boolean;
  'allow-comments'?: boolean;
  validateContains?: string;
}

const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { 'test-cases': Case[] };
const r4 = manifest['test-cases'].filter((c) => c.version === '4.0' && c['use-test'] !== false && !c.packages && !c.profile?.packages);
const cases =
  values.set === 'profile'
    ? r4.filter((c) => c.profile || c.supporting || c.profiles || ['profile', 'sd', 'extensions'].includes(c.module ?? ''))
    : r4.filter((c) => !c.profile && !c.logical && !c.matchetype);

function read(file: string, allowComments = false): { resource?: Resource; issues: OperationOutcomeIssue[] } {
  const text = readFileSync(join(dir!, file), 'utf8');
  if (file.endsWith('.xml')) {
    try {
      return { resource: parseFhirXml(text), issues: [] };
    } catch (err) {
      return { issues: [{ severity: 'error', code: 'structure', diagnostics: err instanceof Error ? err.message : String(err) }] };
    }
  }
  const { resource, issues } = readFhirJson(text, { allowComments });
  return { resource: resource as Resource | undefined, issues };
}

/** The reference's error count: from its outcome file, or given inline (older cases). */
function referenceErrorCount(expected: Expected | undefined): number | undefined {
  if (!expected) return undefined;
  if (typeof expected === 'object' && expected.errorCount !== undefined) return expected.errorCount;
  let outcome: { issue?: { severity: string }[] } | undefined;
  if (typeof expected === 'object') outcome = expected.outcome;
  else if (existsSync(join(dir!, 'outcomes', expected))) outcome = JSON.parse(readFileSync(join(dir!, 'outcomes', expected), 'utf8'));
  return outcome && (outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').length;
}

/**
 * What the reference's test fetcher finds for a reference: a supporting resource, or a file of the
 * suite named after the id holding a resource of that type (how the suite's reference cases are
 * set up). The server's `$validate` reads the store instead.
 */
function fetcher(others: Map<string, Resource>): (reference: string) => Record<string, unknown> | undefined {
  return (reference) => {
    const { type, id } = parseReferenceString(reference);
    if (!type || !id) return undefined;
    const known = others.get(`${type}/${id}`);
    if (known) return known as unknown as Record<string, unknown>;
    for (const ext of ['.json', '.xml']) {
      if (!existsSync(join(dir!, id + ext))) continue;
      const { resource } = read(id + ext);
      if (resource?.resourceType === type) return resource as unknown as Record<string, unknown>;
    }
    return undefined;
  };
}

/**
 * A validator holding the server's built-in definitions plus the case's supporting resources, loaded
 * as `stepwise validate --ig` loads them; the resources that are not definitions are what references
 * resolve to.
 */
async function validatorFor(supporting: string[]): Promise<{ validator: StoredConformance; others: Map<string, Resource> }> {
  const base = createServerValidator();
  const { others } = await loadDefinitions(base, supporting.map((file) => join(dir!, file)).filter((path) => existsSync(path)));
  return { validator: new StoredConformance(() => base), others };
}

/** A profile step names a file holding the profile, or the profile's URL. */
function profileOf(source: string): string | undefined {
  if (/^https?:/.test(source)) return source;
  return existsSync(join(dir!, source)) ? (read(source).resource as { url?: string } | undefined)?.url : undefined;
}

function domains(c: Case): string[] | undefined {
  const d = c['allowed-extension-domain'];
  return d === undefined ? undefined : Array.isArray(d) ? d : [d];
}

interface Result {
  name: string;
  expected: number;
  found: OperationOutcomeIssue[];
  agrees: boolean;
}

/**
 * The case validated in this process, as `$validate` does, with the options the reference was run
 * with that Stepwise has (extension domains, bundle-param, security-checks, examples,
 * noHtmlInMarkdown, allow-comments, validateContains IGNORE).
 */
async function judgeInProcess(c: Case, supporting: string[], profileUrl: string | undefined): Promise<OperationOutcomeIssue[]> {
  const { validator, others } = await validatorFor(supporting);
  const { resource, issues: found } = read(c.file, c['allow-comments']);
  if (!resource) return found;
  return [
    ...found,
    ...validator.validate(resource, {
      profiles: profileUrl ? [profileUrl] : [],
      unknownExtension: 'error',
      globalProfiles: true,
      extensionDomains: domains(c),
      resolveReference: fetcher(others),
      bundleProfiles: c['bundle-param'] ? [c['bundle-param']] : undefined,
      securityChecks: c['security-checks'],
      allowExampleUrls: c.examples,
      htmlInMarkdown: c.noHtmlInMarkdown ? 'error' : undefined,
      containedResources: c.validateContains === 'IGNORE' ? 'ignore' : undefined,
    } as Parameters<StoredConformance['validate']>[1]),
  ];
}

const contentType = (file: string): string => (file.endsWith('.xml') ? 'application/fhir+xml' : 'application/fhir+json');

/**
 * The case sent to a running server over HTTP, as an integrator would: each supporting resource
 * PUT (a Bundle's entries one by one), then `POST [type]/$validate` with the file as it is (and
 * `?profile=` for a profile step), then the supporting resources deleted. A 4xx answer counts as an
 * error; a 5xx is printed as a fault.
 */
async function judgeOverHttp(base: string, c: Case, supporting: string[], profileUrl: string | undefined): Promise<OperationOutcomeIssue[]> {
  const stored: string[] = [];
  try {
    for (const file of supporting) {
      const { resource } = existsSync(join(dir!, file)) ? read(file) : { resource: undefined };
      const parts = resource?.resourceType === 'Bundle' ? (resource.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])) : resource ? [resource] : [];
      for (const [i, r] of parts.entries()) {
        const id = r.id ?? `${c.name.replace(/[^A-Za-z0-9\-.]/g, '-').slice(0, 50)}-${stored.length}-${i}`;
        const body = parts.length === 1 && r.id ? readFileSync(join(dir!, file), 'utf8') : JSON.stringify({ ...r, id });
        const type = parts.length === 1 && r.id ? contentType(file) : 'application/fhir+json';
        const res = await fetch(`${base}/${r.resourceType}/${id}`, { method: 'PUT', headers: { 'content-type': type }, body });
        if (res.status < 300) stored.push(`${r.resourceType}/${id}`);
        const answer = await res.text();
        if (res.status >= 300 && values.issues) console.log(`    (${c.name}: supporting ${r.resourceType}/${id} refused: ${res.status} ${answer.slice(0, 300)})`);
      }
    }
    const { resource } = read(c.file);
    const type = resource?.resourceType ?? 'Basic';
    const res = await fetch(`${base}/${type}/$validate${profileUrl ? `?profile=${encodeURIComponent(profileUrl)}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': contentType(c.file), accept: 'application/fhir+json' },
      body: readFileSync(join(dir!, c.file)),
    });
    const outcome = (await res.json().catch(() => ({}))) as { issue?: OperationOutcomeIssue[] };
    if (res.status >= 500) console.log(`FAULT  ${c.name}: ${res.status} ${JSON.stringify(outcome).slice(0, 300)}`);
    const issues = outcome.issue ?? [];
    return res.status >= 400 && !issues.some((i) => i.severity === 'error' || i.severity === 'fatal') ? [{ severity: 'error', code: 'invalid', diagnostics: `HTTP ${res.status}` }, ...issues] : issues;
  } finally {
    for (const ref of stored.reverse()) await (await fetch(`${base}/${ref}`, { method: 'DELETE' })).arrayBuffer();
  }
}

const results: Result[] = [];
let skipped = 0;
for (const c of cases) {
  if (values.only && c.name !== values.only) continue;
  const outcomeFile = c.profile ? c.profile.java : c.java;
  const expected = referenceErrorCount(outcomeFile);
  if (expected === undefined || !existsSync(join(dir, c.file))) {
    skipped++;
    continue;
  }
  const supporting = [...(c.supporting ?? []), ...(c.supporting5 ?? []), ...(c.profiles ?? []), ...(c.profile ? [c.profile.source, ...(c.profile.supporting ?? [])] : [])].filter((f) => !/^https?:/.test(f));
  const profileUrl = c.profile ? profileOf(c.profile.source) : undefined;
  const found = values.http ? await judgeOverHttp(values.http, c, supporting, profileUrl) : await judgeInProcess(c, supporting, profileUrl);
  const errors = found.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  results.push({ name: c.name, expected, found, agrees: errors.length > 0 === expected > 0 });
}

const agreeing = results.filter((r) => r.agrees).length;
for (const r of results.filter((x) => !x.agrees || values.list)) {
  const errors = r.found.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  console.log(`${r.agrees ? 'agree ' : 'DIFFER'} ${r.name}: reference ${r.expected} errors, Stepwise ${errors.length}`);
  if (values.issues) for (const i of errors) console.log(`    ${i.expression?.[0] ?? ''}: ${i.diagnostics ?? i.details?.text}`);
}
console.log(`${values.set}: ${agreeing}/${results.length} agree (${((100 * agreeing) / results.length).toFixed(1)} %), ${skipped} without a reference outcome or input`);

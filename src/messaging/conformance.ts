import { readdirSync, readFileSync } from 'node:fs';
import type { MessageDefinition, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { createR4Validator, type Validator } from '../fhir/validation/index.js';
import { correctBarsProfile } from './bars-corrections.js';

const DIR = new URL('./conformance/', import.meta.url);
const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const UKCORE = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-';

/** The conformance resources of the BaRS package that Stepwise holds (copied from uk.nhsdigital.bars.r4 1.34.0). */
export function barsConformanceResources(): Resource[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as Resource);
}

export function barsMessageDefinitions(): MessageDefinition[] {
  return barsConformanceResources().filter((r): r is MessageDefinition => r.resourceType === 'MessageDefinition');
}

/**
 * A validator over R4 plus the BaRS profiles and code systems.
 *
 * Adapter: the BaRS profiles derive from UK Core profiles (UKCore-Bundle, UKCore-MessageHeader,
 * UKCore-ServiceRequest) that are not in the BaRS package; until UK Core is loaded they are rebased
 * onto the R4 resource they constrain, so their own differentials are still checked. The
 * package's own defects are corrected first (bars-corrections.ts).
 */
export function createBarsValidator(base: Validator = createR4Validator()): Validator {
  for (const resource of barsConformanceResources()) {
    if (resource.resourceType === 'StructureDefinition') base.registry.addStructureDefinition(rebased(correctBarsProfile(resource), base));
    else if (resource.resourceType === 'CodeSystem' || resource.resourceType === 'ValueSet') base.registry.addResource(resource);
  }
  return base;
}

function rebased(sd: StructureDefinition, v: Validator): StructureDefinition {
  const baseUrl = sd.baseDefinition;
  const out = baseUrl?.startsWith(UKCORE) && !v.registry.getStructureDefinition(baseUrl) ? { ...sd, baseDefinition: CORE + sd.type } : sd;
  return withChoiceRenames(out);
}

/**
 * The BaRS MessageHeader profiles constrain `MessageHeader.event[x].system` and `.code`, i.e. inside
 * a choice of Coding and uri, which a snapshot cannot express. BaRS events are Codings (every
 * example and every MessageDefinition uses eventCoding), so event[x] is first restricted to Coding.
 */
function withChoiceRenames(sd: StructureDefinition): StructureDefinition {
  const elements = sd.differential?.element ?? [];
  const at = elements.findIndex((e) => e.path.startsWith('MessageHeader.event[x].'));
  if (at < 0) return sd;
  const restricted = [...elements];
  restricted.splice(at, 0, { id: 'MessageHeader.event[x]', path: 'MessageHeader.event[x]', type: [{ code: 'Coding' }] });
  return { ...sd, differential: { element: restricted } };
}

let shared: Validator | undefined;

/** One process-wide BaRS validator, built on first use (the R4 base takes a second or two to load). */
export function sharedBarsValidator(): Validator {
  shared ??= createBarsValidator();
  return shared;
}

const UNKNOWN_PROFILE = /^Profile \S+ is not known to this validator/;

/**
 * Validates a message Bundle against R4 and the profiles its resources declare. A declared profile
 * the validator does not hold (UK Core profiles the BaRS package only names) cannot be checked: that
 * is reported as a warning, not as an error of the sender's message.
 */
export function validateAgainstProfiles(v: Validator, bundle: Resource): OperationOutcomeIssue[] {
  return v.validate(bundle).map((i) => (i.code === 'not-found' && UNKNOWN_PROFILE.test(i.diagnostics ?? '') ? { ...i, severity: 'warning' as const } : i));
}

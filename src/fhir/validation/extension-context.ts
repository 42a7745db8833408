import { evalFhirPathTyped, type FhirPathAtom, parseFhirPath, type TypedValue } from '@medplum/core';
import type { StructureDefinition } from '@medplum/fhirtypes';
import type { ExtensionHost, ValidationContext, ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * Where an extension may be used (http://hl7.org/fhir/R4/extensibility.html#context,
 * structuredefinition-definitions.html#StructureDefinition.context). Each context of its definition
 * is one of:
 * - `element`: an element path (`Patient`, `Patient.contact`, `HumanName.given`) or a type name
 *   (`Address`, `string`); `Element` means anywhere, `Resource` any resource. A type matches its
 *   specialisations (code is a string, Patient a DomainResource);
 * - `extension`: the URL of the extension this one may sit inside;
 * - `fhirpath`: an expression, evaluated on the resource, whose results include the element.
 * Once a context matches, every contextInvariant is evaluated (FHIRPath) with the element as focus.
 * The messages are the HL7 validator's. An extension used where its definition does not allow it
 * breaks the definition (a profile on Extension), not R4 itself, so its issues are profile issues.
 */

type Matcher = (host: ExtensionHost, where: () => string[], ctx: ValidationContext) => boolean;

interface Compiled {
  /** Whether the definition is a modifier extension (its root element's isModifier). */
  isModifier: boolean;
  matchers: Matcher[];
  /** For messages, as the HL7 validator lists them: `e:Patient, x:http://…, p:expression`. */
  allowed: string;
  invariants: Array<{ expression: string; atom?: FhirPathAtom; error?: string }>;
}

const ANYWHERE = new Set(['Element', 'Any']);
const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
const CORE = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * Contexts of R4 core extensions that the R4 definitions state wrongly (the tools themselves use
 * these extensions elsewhere), corrected as the HL7 validator corrects them: by index of the
 * context, its expression.
 */
const contextCorrections: Readonly<Record<string, Record<number, string>>> = {
  [`${CORE}structuredefinition-fhir-type`]: { 0: 'ElementDefinition.type' },
  [`${CORE}regex`]: { 1: 'ElementDefinition.type' },
  [`${CORE}structuredefinition-normative-version`]: { 0: 'Element' },
  [`${CORE}capabilitystatement-expectation`]: { 0: 'Element' },
  [`${CORE}capabilitystatement-prohibited`]: { 0: 'Element' },
};
const EXTENSION_KEY = /\.(?:modifierExtension|extension)\[\d+\]$/;

/**
 * `CanonicalResource` is an R5 abstract type (R5 canonicalresource.html) that extensions published
 * for every version (the tools extensions, the extensions pack) name as their context. R4 has no
 * such type; the HL7 validator reads it in R4 as the R4 resources that have its elements (url,
 * version, name, status…: the R4 resources with a canonical url).
 */
const R4_CANONICAL_RESOURCES = new Set([
  'ActivityDefinition', 'CapabilityStatement', 'ChargeItemDefinition', 'CodeSystem', 'CompartmentDefinition',
  'ConceptMap', 'EffectEvidenceSynthesis', 'EventDefinition', 'Evidence', 'EvidenceVariable', 'ExampleScenario',
  'GraphDefinition', 'ImplementationGuide', 'Library', 'Measure', 'MessageDefinition', 'NamingSystem',
  'OperationDefinition', 'PlanDefinition', 'Questionnaire', 'ResearchDefinition', 'ResearchElementDefinition',
  'RiskEvidenceSynthesis', 'SearchParameter', 'StructureDefinition', 'StructureMap', 'TerminologyCapabilities',
  'TestScript', 'ValueSet',
]);

export class ExtensionContexts {
  private readonly compiled = new Map<string, Compiled | null>();
  private readonly baseTypes = new Map<string, string[]>();

  constructor(private readonly registry: ConformanceRegistry) {}

  /** The check run on every Extension value: its definition, if known, must allow it where it is. */
  readonly check: ValueCheck = (value, path, ctx) => {
    const host = ctx.extensionHost;
    const url = (value as { url?: unknown }).url;
    if (!host || typeof url !== 'string') return;
    if (host.typeName !== 'Extension' && !ABSOLUTE.test(url)) {
      // only the parts of a complex extension are named by a bare name (extensibility.html#url)
      ctx.issues.error('value', `${path}.url`, `Extension.url must be an absolute URL (not '${url}'); only the extensions inside a complex extension are named by a bare name`);
      return;
    }
    const compiled = this.compile(url);
    if (!compiled) return;
    const asModifier = /\.modifierExtension\[\d+\]$/.test(path);
    if (asModifier !== compiled.isModifier) {
      ctx.issues.underProfile(() =>
        ctx.issues.error(
          'structure',
          path,
          asModifier
            ? `Extension modifier mismatch: the extension element is labelled as a modifier, but the underlying extension ${url} is not`
            : `Extension modifier mismatch: the extension element is not labelled as a modifier, but the underlying extension ${url} is (use modifierExtension)`,
        ),
      );
    }
    let places: string[] | undefined;
    const where = () => (places ??= this.placesOf(host, path, ctx));
    if (!compiled.matchers.some((m) => m(host, where, ctx))) {
      ctx.issues.underProfile(() =>
        ctx.issues.error(
          'structure',
          path,
          `The extension ${url} is not allowed to be used at this point (allowed = ${compiled.allowed}; this element is [${where().join(', ')}])`,
        ),
      );
      return;
    }
    for (const invariant of compiled.invariants) this.checkInvariant(url, invariant, host, value, path, ctx);
  };

  private compile(url: string): Compiled | null {
    let compiled = this.compiled.get(url);
    if (compiled === undefined) {
      const sd = this.registry.getStructureDefinition(url);
      compiled = sd?.type === 'Extension' ? this.compileDefinition(sd) : null;
      this.compiled.set(url, compiled);
    }
    return compiled;
  }

  private compileDefinition(sd: StructureDefinition): Compiled {
    const matchers: Matcher[] = [];
    const allowed: string[] = [];
    // no context stated: nothing to restrict (R4 requires one, but that is the definition's fault)
    if (!sd.context?.length) matchers.push(() => true);
    const corrections = contextCorrections[sd.url as string] ?? {};
    for (const [i, context] of (sd.context ?? []).entries()) {
      const expression = corrections[i] ?? context.expression ?? '';
      if (context.type === 'element') {
        allowed.push(`e:${expression}`);
        matchers.push(this.elementMatcher(expression));
      } else if (context.type === 'extension') {
        allowed.push(`x:${expression}`);
        // on the extension itself, or on its value (`_valueBoolean` of it)
        matchers.push((host) => (host.typeName === 'Extension' && (host.value as { url?: unknown } | null)?.url === expression) || host.ofExtension === expression);
      } else if (context.type === 'fhirpath') {
        allowed.push(`p:${expression}`);
        matchers.push(fhirPathMatcher(expression));
      }
    }
    const invariants = (sd.contextInvariant ?? []).map((expression) => {
      try {
        return { expression, atom: parseFhirPath(expression) };
      } catch (err) {
        return { expression, error: err instanceof Error ? err.message : String(err) };
      }
    });
    const root = sd.snapshot?.element?.[0] ?? sd.differential?.element?.find((e) => e.path === 'Extension');
    return { isModifier: root?.isModifier === true, matchers, allowed: allowed.join(', '), invariants };
  }

  private elementMatcher(expression: string): Matcher {
    if (ANYWHERE.has(expression)) return () => true;
    if (expression === 'Resource') return (host) => host.isResource;
    if (expression === 'CanonicalResource') return (host) => host.isResource && R4_CANONICAL_RESOURCES.has(host.typeName);
    return (host, where) => {
      // the host's own names first (cheap), then the path from its resource (built once, on demand)
      if (this.matchesName(host.typeName, expression) || this.matchesName(host.typePath, expression)) return true;
      return where().some((p) => this.matchesName(p, expression));
    };
  }

  /** `Patient.contact` matches `Patient.contact` and `DomainResource.contact`…; `code` matches `string`. */
  private matchesName(name: string, expression: string): boolean {
    if (name === expression) return true;
    const dot = name.indexOf('.');
    const head = dot < 0 ? name : name.slice(0, dot);
    const tail = dot < 0 ? '' : name.slice(dot);
    return this.basesOf(head).some((base) => base + tail === expression);
  }

  /**
   * The types a type specialises, nearest first: code → string, Element; Patient → DomainResource,
   * Resource. A backbone element (PatientContact: no definition of its own) is a BackboneElement.
   */
  private basesOf(type: string): string[] {
    let bases = this.baseTypes.get(type);
    if (!bases) {
      bases = [];
      let sd = this.registry.getTypeDefinition(type);
      if (!sd && /^[A-Z]/.test(type) && !this.registry.isResourceType(type)) {
        sd = this.registry.getTypeDefinition('BackboneElement');
        bases.push('BackboneElement');
      }
      for (let depth = 0; sd?.baseDefinition && depth < 10; depth++) {
        sd = this.registry.getStructureDefinition(sd.baseDefinition);
        if (sd?.type) bases.push(sd.type);
      }
      this.baseTypes.set(type, bases);
    }
    return bases;
  }

  /**
   * The names of the element an extension sits on, as the HL7 validator lists them: its path in the
   * resource without indexes (`Patient.name.given`), its path in its type (`HumanName.given`) and
   * its type (`string`).
   */
  private placesOf(host: ExtensionHost, extensionPath: string, ctx: ValidationContext): string[] {
    const places: string[] = [];
    const container = extensionPath.replace(EXTENSION_KEY, '');
    const start = ctx.resourcePath ?? ctx.resource.type;
    if (container.startsWith(start)) {
      const literal = ctx.resource.type + container.slice(start.length).replace(/\[\d+\]/g, '');
      places.push(literal.replace(/\.ofType\([^)]+\)/g, ''));
      if (literal.includes('.ofType(')) places.push(literal.replace(/\.ofType\([^)]+\)/g, '[x]'));
    }
    for (const name of [host.typePath, host.typeName]) if (!places.includes(name)) places.push(name);
    return places;
  }

  /** A contextInvariant, with the element as focus and `%extension` the extension itself (as R5 names it; R4's core definitions use it). */
  private checkInvariant(url: string, invariant: Compiled['invariants'][number], host: ExtensionHost, extension: unknown, path: string, ctx: ValidationContext): void {
    let result: TypedValue[] | undefined;
    if (invariant.atom) {
      try {
        const focus: TypedValue = { type: host.typeName, value: host.value };
        result = evalFhirPathTyped(invariant.atom, [focus], {
          '%context': focus,
          '%resource': ctx.resource,
          '%rootResource': ctx.rootResource,
          '%extension': { type: 'Extension', value: extension },
        });
      } catch {
        result = undefined;
      }
    }
    if (!result) {
      ctx.issues.warning('not-supported', path, `The context invariant '${invariant.expression}' of extension ${url} could not be evaluated here${invariant.error ? ` (${invariant.error})` : ''}`);
      return;
    }
    if (result.length !== 1 || result[0].value !== true) {
      ctx.issues.underProfile(() =>
        ctx.issues.error('structure', path, `The extension ${url} is not allowed to be used at this point (based on context invariant '${invariant.expression}')`),
      );
    }
  }
}

/** A `fhirpath` context: evaluated on the resource, it must select the element the extension is on. */
function fhirPathMatcher(expression: string): Matcher {
  let atom: FhirPathAtom | undefined;
  let broken = false;
  return (host, _where, ctx) => {
    if (broken) return false;
    try {
      atom ??= parseFhirPath(expression);
      const results = evalFhirPathTyped(atom, [ctx.resource], { '%resource': ctx.resource, '%rootResource': ctx.rootResource });
      return results.some((r) => r.value === host.value);
    } catch {
      broken = true;
      return false;
    }
  };
}

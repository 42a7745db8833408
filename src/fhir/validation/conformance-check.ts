import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { InvariantCompiler } from './invariants.js';
import { buildElementTree } from './model.js';
import { ProfileCompiler } from './profiles.js';
import type { ConformanceRegistry } from './registry.js';
import { SnapshotError, snapshotElements } from './snapshot.js';
import { Terminology } from './terminology.js';

/**
 * Whether a conformance resource someone stores can be used by validation (issue 15), beyond its
 * validity as a FHIR resource: a StructureDefinition must give a snapshot (its own, or one
 * generated from its differential over a base that is loaded) that compiles into checks. What
 * cannot be used is an error, named at the element at fault; flaws the HL7 validator only warns
 * about in published profiles are warnings (see `lenient`).
 */

const CORE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

export interface UsabilityOptions {
  /**
   * Severity of "cannot be used": `error` for a profile written over REST (the author can fix it
   * and send it again), `warning` for one in an implementation guide package (stored as published;
   * it answers with the reason wherever it is used).
   */
  unusable: 'error' | 'warning';
}

/** Issues about using a conformance resource for validation, checked against `registry` plus the resource itself. */
export function usabilityIssues(resource: Resource, registry: ConformanceRegistry, opts: UsabilityOptions): OperationOutcomeIssue[] {
  if (resource.resourceType !== 'StructureDefinition') return [];
  const sd = resource;
  if (!sd.url || !sd.type) return []; // the base validation has said so (url and type are 1..1)
  if (!sd.snapshot?.element?.length && !sd.differential?.element?.length) {
    return [issue(opts.unusable, 'StructureDefinition', `StructureDefinition ${sd.url} has neither a snapshot nor a differential, so it defines nothing to validate against`)];
  }
  if (isCoreDefinition(sd)) {
    return [issue('warning', 'StructureDefinition.url', `${sd.url} is an R4 base definition: Stepwise validates against the R4 definitions it is built with, and stores this one without using it`)];
  }
  if (sd.derivation === 'specialization' && !sd.snapshot?.element?.length) {
    // a new type (a logical model, a custom resource) adds elements rather than constraining them:
    // Stepwise's snapshot generator does not build those, which is its limit, not the author's fault
    return [issue('warning', 'StructureDefinition.differential', `${sd.url} defines a new type (derivation specialization) by differential only; Stepwise generates snapshots for constraints only, so it is stored without being used for validation (send it with its snapshot)`)];
  }
  const trial = registry.copy();
  const usable = withElementIds(sd);
  trial.addStructureDefinition(usable);
  const problem = compileProblem(usable, trial);
  if (!problem) return [];
  return [issue(opts.unusable, problem.expression, `Profile ${sd.url} cannot be used for validation: ${problem.message}`, 'processing')];
}

/** Whether a StructureDefinition claims the URL of an R4 type or resource definition. */
export function isCoreDefinition(sd: StructureDefinition): boolean {
  return sd.url === CORE_PREFIX + sd.type && sd.derivation !== 'constraint';
}

/**
 * Why a profile in `registry` does not compile, with the element at fault; undefined when it
 * does. Compiles as the validator will: snapshot, element tree, and every element's checks.
 */
export function compileProblem(sd: StructureDefinition, registry: ConformanceRegistry): { message: string; expression: string } | undefined {
  try {
    const root = buildElementTree(snapshotElements(sd, registry));
    const compiler = new ProfileCompiler(registry, new Terminology(registry), new InvariantCompiler());
    for (const child of root.children) compiler.compileNode(child, sd.url as string);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof SnapshotError && err.differentialIndex !== undefined) {
      return { message, expression: `StructureDefinition.differential.element[${err.differentialIndex}]` };
    }
    if (err instanceof SnapshotError && err.element) return { message, expression: `StructureDefinition.${err.element}` };
    return { message, expression: sd.snapshot?.element?.length ? 'StructureDefinition.snapshot' : 'StructureDefinition.differential' };
  }
}

/**
 * Invariants of conformance resources that published profiles (real IGs, the HL7 test suite)
 * often break without harm, and that the HL7 validator reports as warnings: element ids (sdf-14;
 * sdf-17 when ids are missing rather than repeated). The snapshot generator and the compiler fall
 * back on paths. Returns the issues with those turned into warnings.
 */
export function lenient(resource: Resource, issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  if (resource.resourceType !== 'StructureDefinition') return issues;
  const missingIds = [...(resource.snapshot?.element ?? []), ...(resource.differential?.element ?? [])].some((e) => !e.id);
  return issues.map((i) => {
    const key = i.details?.coding?.[0]?.code;
    if (i.severity !== 'error' || !(key === 'sdf-14' || (key === 'sdf-17' && missingIds))) return i;
    return { ...i, severity: 'warning' as const, diagnostics: `${i.diagnostics} (accepted: elements are matched by path)` };
  });
}

function issue(severity: 'error' | 'warning', expression: string, message: string, code: OperationOutcomeIssue['code'] = 'invalid'): OperationOutcomeIssue {
  return { severity, code, diagnostics: message, details: { text: message }, expression: [expression] };
}

/**
 * The StructureDefinition with an id on every element that lacks one (a copy; the same object when
 * none lacks one), made as ElementDefinition.id is defined (http://hl7.org/fhir/R4/elementdefinition.html#id):
 * the parent's id, the last path segment, and `:sliceName` for a slice. Elements after a slice
 * belong to it, so a differential without ids still constrains inside the slice it follows.
 */
export function withElementIds(sd: StructureDefinition): StructureDefinition {
  const lists = [sd.snapshot?.element, sd.differential?.element];
  if (!lists.some((list) => list?.some((e) => !e.id))) return sd;
  const copy = structuredClone(sd);
  for (const list of [copy.snapshot?.element, copy.differential?.element]) {
    const idOfPath = new Map<string, string>();
    for (const e of list ?? []) {
      const path = e.path as string;
      const dot = path.lastIndexOf('.');
      if (!e.id) {
        const parent = dot < 0 ? undefined : path.slice(0, dot);
        const base = parent === undefined ? path : `${idOfPath.get(parent) ?? parent}.${path.slice(dot + 1)}`;
        e.id = e.sliceName ? `${base}:${e.sliceName}` : base;
      }
      idOfPath.set(path, e.id);
    }
  }
  return copy;
}

import { buildTypeName } from '@medplum/core';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { compileBinding } from './bindings.js';
import type { ValidationContext, ValueCheck } from './context.js';
import type { InvariantCompiler } from './invariants.js';
import { buildElementTree, type ElementNode, parseMax, typeCode } from './model.js';
import { allowedTargetTypes, referenceTargetCheck } from './references.js';
import type { ConformanceRegistry } from './registry.js';
import { type ProfileNode, visitChildren } from './profile-walk.js';
import { narrativeControlChecks } from './narrative-control.js';
import { compileSlicing } from './slicing.js';
import { minLengthChecks, mustHaveValueChecks, requiredAdditionalBindings, valueAlternativesChecks, valueLimitChecks } from './value-limits.js';
import { snapshotElements } from './snapshot.js';
import { anyOfProfilesCheck, resourceTypeMismatch, targetProfileCheck } from './target-profiles.js';
import type { Terminology } from './terminology.js';
import { deepEqual, matchesPattern } from './values.js';

/**
 * Profiles (http://hl7.org/fhir/R4/profiling.html). Base validation already checks everything the
 * core definitions say, so a profile compiles to the checks it adds on top: narrowed cardinality and
 * types, fixed[x] and pattern[x], changed bindings, new constraints, narrowed reference targets,
 * slicing, and type profiles (extension definitions). mustSupport has no meaning for validation.
 * Each profile URL compiles once into a tree of closures that only visits constrained elements.
 */

/** Checks one resource or data type value against a compiled profile. */
export interface ProfileChecker {
  url: string;
  check: ValueCheck;
}

export class ProfileCompiler {
  private readonly checkers = new Map<string, ProfileChecker | { error: string }>();
  private readonly coreElements = new Map<string, ElementDefinition | null>();

  constructor(
    private readonly registry: ConformanceRegistry,
    private readonly terminology: Terminology,
    private readonly invariants: InvariantCompiler,
  ) {}

  /** The checker for a profile URL, or undefined when the registry does not have it. */
  checker(url: string): ProfileChecker | undefined {
    const compiled = this.compiled(url);
    if (!compiled) return undefined;
    if ('error' in compiled) {
      const error = compiled.error;
      return { url, check: (_v, path, ctx) => ctx.issues.error('processing', path, `Profile ${url} could not be compiled: ${error}`) };
    }
    return compiled;
  }

  /**
   * Checks a resource against its meta.profile and any extra profile URLs. A meta.profile the
   * registry does not hold is reported with `unknownDeclared` severity and the resource is checked
   * against the rest, as the HL7 validator does ("Profile reference '…' has not been checked because
   * it is unknown", a warning: a claim of conformance is not itself a fault). A profile asked for
   * explicitly (`extra`: $validate's profile, the CLI's --profile) that is unknown is an error: the
   * check asked for cannot be done.
   */
  checkDeclared(
    resource: Record<string, unknown>,
    resourceType: string,
    path: string,
    ctx: ValidationContext,
    extra: string[],
    unknownDeclared: 'warning' | 'error' = 'warning',
  ): void {
    const declared = (resource.meta as { profile?: unknown } | undefined)?.profile;
    const seen = new Set<string>();
    const check = (url: unknown, where: string, unknownSeverity: 'warning' | 'error'): void => {
      if (typeof url !== 'string' || seen.has(url)) return;
      seen.add(url);
      const sd = this.registry.getStructureDefinition(url);
      if (!sd) {
        ctx.issues.add(
          unknownSeverity,
          'not-found',
          where,
          `Profile ${url} is not known to this validator, so the resource has not been checked against it (load the profile's StructureDefinition first)`,
        );
        return;
      }
      ctx.issues.underProfile(() => {
        if (sd.type !== resourceType) ctx.issues.error('structure', where, `Profile ${url} is for ${sd.type} resources, but this is a ${resourceType}`);
        else this.checker(url)?.check(resource, path, ctx);
      });
    };
    if (Array.isArray(declared)) declared.forEach((url, i) => check(url, `${path}.meta.profile[${i}]`, unknownDeclared));
    for (const url of extra) check(url, path, 'error');
  }

  private compiled(url: string): ProfileChecker | { error: string } | undefined {
    const cached = this.checkers.get(url);
    if (cached) return cached;
    const sd = this.registry.getStructureDefinition(url);
    if (!sd) return undefined;
    let compiled: ProfileChecker | { error: string };
    try {
      compiled = this.compile(sd);
    } catch (err) {
      compiled = { error: err instanceof Error ? err.message : String(err) };
    }
    this.checkers.set(url, compiled);
    return compiled;
  }

  private compile(sd: StructureDefinition): ProfileChecker {
    const url = sd.url as string;
    const root = buildElementTree(snapshotElements(sd, this.registry));
    const rootChecks = this.valueChecks(root, sd.type as string, url, true);
    const children = this.compileChildren(root, url);
    return {
      url,
      check: (value, path, ctx) => {
        if (value === null || typeof value !== 'object') return;
        for (const c of rootChecks) c(value, sd.type as string, path, ctx);
        visitChildren(children, value as Record<string, unknown>, path, ctx);
      },
    };
  }

  private compileChildren(node: ElementNode, url: string): ProfileNode[] {
    const out: ProfileNode[] = [];
    for (const child of node.children) {
      const compiled = this.compileNode(child, url);
      if (compiled) out.push(compiled);
    }
    return out;
  }

  /** Compiles one element (or slice); undefined when it adds nothing to the base. */
  compileNode(node: ElementNode, url: string): ProfileNode | undefined {
    const core = this.coreElement(node.path);
    const coreTypes = (core?.type ?? []).map(typeCode);
    const compiled: ProfileNode = {
      name: node.name,
      baseName: node.baseName,
      isChoice: node.isChoice,
      type: node.types.length === 1 ? node.types[0] : '',
      label: node.id,
      valueChecks: this.valueChecks(node, undefined, url, false),
      children: this.compileChildren(node, url),
    };
    if (!core || node.min !== (core.min ?? 0) || node.max !== parseMax(core.max)) {
      compiled.cardinality = { min: node.min, max: node.max };
    }
    if (node.isChoice && node.types.length > 0 && node.types.length < coreTypes.length) compiled.types = new Set(node.types);
    if (node.slices.length > 0 || node.def.slicing) {
      compiled.slicing = compileSlicing(node, (slice) => this.compileNode(slice, url) ?? emptyNode(slice), this.terminology, url, this.registry);
    }
    const adds = compiled.cardinality || compiled.types || compiled.valueChecks.length > 0 || compiled.children.length > 0 || compiled.slicing;
    return adds ? compiled : undefined;
  }

  /** Checks on each value of an element: fixed/pattern, binding, constraints, targets, type profiles. */
  private valueChecks(node: ElementNode, rootType: string | undefined, url: string, isRoot: boolean): ProfileNode['valueChecks'] {
    const def = node.def;
    const core = isRoot ? undefined : this.coreElement(node.path);
    const checks: ProfileNode['valueChecks'] = [];
    const label = node.id;

    for (const key of Object.keys(def)) {
      if (key.startsWith('fixed') || key.startsWith('pattern')) {
        const expected = (def as unknown as Record<string, unknown>)[key];
        const exact = key.startsWith('fixed');
        checks.push((value, _type, path, ctx) => {
          if (!(exact ? deepEqual(value, expected) : matchesPattern(value, expected))) {
            ctx.issues.error(
              'value',
              path,
              `${label} must ${exact ? 'be exactly' : 'match'} ${JSON.stringify(expected)} (${key} in profile ${url}), but ${value === undefined ? 'has no value' : `is ${JSON.stringify(value)}`}`,
            );
          }
        });
      }
    }
    checks.push(...valueLimitChecks(def, label, url), ...minLengthChecks(def, label, url), ...mustHaveValueChecks(def, label, url), ...valueAlternativesChecks(def, label, url), ...narrativeControlChecks(def, url));
    if (typeof def.maxLength === 'number') {
      const max = def.maxLength;
      checks.push((value, _type, path, ctx) => {
        if (typeof value === 'string' && value.length > max) ctx.issues.error('value', path, `${label} is limited to ${max} characters by profile ${url}`);
      });
    }

    const binding = def.binding;
    const coreBinding = core?.binding;
    if (binding?.valueSet && (binding.valueSet !== coreBinding?.valueSet || binding.strength !== coreBinding?.strength)) {
      const byType = new Map<string, ValueCheck | undefined>();
      checks.push((value, type, path, ctx) => {
        if (!byType.has(type)) byType.set(type, compileBinding(binding, type, this.terminology));
        byType.get(type)?.(value, path, ctx);
      });
    }
    for (const additional of requiredAdditionalBindings(def)) {
      const byType = new Map<string, ValueCheck | undefined>();
      checks.push((value, type, path, ctx) => {
        if (!byType.has(type)) byType.set(type, compileBinding(additional, type, this.terminology));
        byType.get(type)?.(value, path, ctx);
      });
    }

    const coreKeys = new Set((isRoot ? this.registry.getTypeDefinition(rootType as string)?.snapshot?.element?.[0] : core)?.constraint?.map((c) => c.key) ?? []);
    for (const constraint of def.constraint ?? []) {
      if (coreKeys.has(constraint.key)) continue;
      const fhirType = isRoot ? (rootType as string) : node.types.length === 1 && !isBackbone(node) ? node.types[0] : buildTypeName(node.path.split('.'));
      const check = this.invariants.compile(constraint, fhirType);
      if (check) checks.push((value, _type, path, ctx) => check(value, path, ctx));
    }

    // A resource element narrowed to particular resource types (e.g. Bundle.entry.resource to Patient).
    const coreTypeCodes = (core?.type ?? []).map((t) => t.code);
    if (!isRoot && (coreTypeCodes.includes('Resource') || coreTypeCodes.includes('DomainResource')) && node.types.every((t) => this.registry.isResourceType(t))) {
      const allowedResources = new Set(node.types);
      checks.push((value, _type, path, ctx) => {
        const actual = (value as { resourceType?: unknown } | null)?.resourceType;
        if (typeof actual === 'string' && !allowedResources.has(actual)) {
          ctx.issues.error('structure', path, `${label} must be a ${[...allowedResources].join(' or ')} in profile ${url}, not a ${actual}`);
        }
      });
    }

    const reference = def.type?.find((t) => t.code === 'Reference');
    const coreReference = core?.type?.find((t) => t.code === 'Reference');
    if (reference?.targetProfile && JSON.stringify(reference.targetProfile) !== JSON.stringify(coreReference?.targetProfile)) {
      const allowed = allowedTargetTypes(reference.targetProfile, this.registry);
      if (allowed) {
        const check = referenceTargetCheck(allowed, this.registry, label);
        checks.push((value, type, path, ctx) => {
          if (type === 'Reference') check(value, path, ctx);
        });
      }
      const conformance = targetProfileCheck(reference.targetProfile, this.registry, label);
      if (conformance) {
        checks.push((value, type, path, ctx) => {
          if (type === 'Reference') conformance(value, path, ctx);
        });
      }
    }

    for (const t of def.type ?? []) {
      const own = (t.profile ?? []).filter((p) => p !== `http://hl7.org/fhir/StructureDefinition/${t.code}`);
      if (own.length > 1 && t.code !== 'Extension') {
        const code = t.code as string;
        const anyOf = anyOfProfilesCheck(own, label, url, this.registry);
        checks.push((value, type, path, ctx) => {
          if (type === code) anyOf(value, path, ctx);
        });
        continue;
      }
      for (const profile of t.profile ?? []) {
        if (profile === `http://hl7.org/fhir/StructureDefinition/${t.code}`) continue;
        const code = t.code as string;
        if (code === 'Extension') {
          // Every extension is already checked against its definition (rules.ts); only its absence is news here.
          if (!this.registry.getStructureDefinition(profile)) {
            checks.push((_value, type, path, ctx) => {
              if (type === code) ctx.issues.error('not-found', path, `${label} must conform to ${profile} (profile ${url}), which is not loaded`);
            });
          }
          continue;
        }
        checks.push((value, type, path, ctx) => {
          if (type !== code) return;
          const wrongType = resourceTypeMismatch(this.registry, profile, value);
          if (wrongType) {
            ctx.issues.error('structure', path, `The type '${wrongType.actual}' is not valid - must be ${wrongType.expected} (${label}, profile ${url})`);
            return;
          }
          if (!ctx.engine.checkAgainstProfile(profile, value, path, ctx)) {
            ctx.issues.error('not-found', path, `${label} must conform to ${profile} (profile ${url}), which is not loaded`);
          }
        });
      }
    }
    return checks;
  }

  /** The core definition of an element path such as `ServiceRequest.subject.identifier.system`. */
  private coreElement(path: string): ElementDefinition | undefined {
    const cached = this.coreElements.get(path);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.resolveCore(path);
    this.coreElements.set(path, found ?? null);
    return found;
  }

  private resolveCore(path: string): ElementDefinition | undefined {
    const segments = path.split('.');
    let elements = this.registry.getTypeDefinition(segments[0])?.snapshot?.element;
    let prefix = segments[0];
    let current: ElementDefinition | undefined = elements?.[0];
    for (let i = 1; i < segments.length && elements && current; i++) {
      let wanted = `${prefix}.${segments[i]}`;
      let next = elements.find((e) => e.path === wanted);
      if (!next) {
        // Step into the data type of the current element, or follow a content reference.
        if (current.contentReference) {
          prefix = current.contentReference.slice(current.contentReference.indexOf('#') + 1);
        } else {
          const type = current.type?.length === 1 ? typeCode(current.type[0]) : undefined;
          const typeElements = type ? this.registry.getTypeDefinition(type)?.snapshot?.element : undefined;
          if (!typeElements) return undefined;
          elements = typeElements;
          prefix = type as string;
        }
        wanted = `${prefix}.${segments[i]}`;
        next = elements.find((e) => e.path === wanted);
      }
      current = next;
      prefix = wanted;
    }
    return current;
  }
}

function isBackbone(node: ElementNode): boolean {
  return node.types.length === 1 && (node.types[0] === 'BackboneElement' || node.types[0] === 'Element') && node.children.length > 0;
}

function emptyNode(node: ElementNode): ProfileNode {
  return {
    name: node.name,
    baseName: node.baseName,
    isChoice: node.isChoice,
    type: node.types.length === 1 ? node.types[0] : '',
    label: node.id,
    valueChecks: [],
    children: [],
  };
}


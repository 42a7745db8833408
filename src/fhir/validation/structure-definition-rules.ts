import type { ElementDefinition, ElementDefinitionBinding, Extension, StructureDefinition } from '@medplum/fhirtypes';
import type { ValueCheck } from './context.js';
import { unversioned, type ConformanceRegistry } from './registry.js';
import { snapshotElements } from './snapshot.js';

/**
 * Rules of a StructureDefinition's content that its invariants do not express, as the HL7
 * validator checks them when a StructureDefinition is validated (structuredefinition.html):
 * - the type of a logical model is a FHIR type or an absolute URL ("other types must have a
 *   namespace on them");
 * - every element path starts with the name of the type it defines (elementdefinition.html#path:
 *   "the first element in the path is the name of the resource or data type"; for a logical model
 *   named by URL, the URL's last segment);
 * - a type profile is a profile of that type (ElementDefinition.type.profile: "profiles that apply
 *   to this type"): its StructureDefinition.type is the type's code;
 * - obligation profiles (checkObligationProfiles).
 */
export function structureDefinitionRule(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const sd = value as StructureDefinition;
    if (typeof sd.type !== 'string') return;
    const isUrl = /^[a-z][a-z0-9+.-]*:/i.test(sd.type);
    if (sd.kind === 'logical' && !isUrl && !registry.getTypeDefinition(sd.type)) {
      ctx.issues.error('structure', `${path}.type`, `The type ${sd.type} is not legal because it is not defined in the FHIR specification. Other types must have a namespace on them`);
    }
    const root = isUrl ? sd.type.slice(sd.type.lastIndexOf('/') + 1) : sd.type;
    for (const part of ['differential', 'snapshot'] as const) {
      (sd[part]?.element ?? []).forEach((element: ElementDefinition, i) => {
        const where = `${path}.${part}.element[${i}]`;
        if (typeof element?.path !== 'string') return;
        if (element.path !== root && !element.path.startsWith(`${root}.`)) {
          ctx.issues.error('structure', where, `The path ${element.path} must start with the type of the structure ${root}`);
          return;
        }
        checkTypeProfiles(element, where, registry, (at, message) => ctx.issues.error('structure', at, message));
      });
    }
    if (sd.derivation === 'constraint') checkFixedAgainstBase(sd, registry, path, (at, message) => ctx.issues.error('value', at, message));
    checkObligationProfiles(sd, registry, path, (at, message) => ctx.issues.error('business-rule', at, message));
    if (isObligationProfile(sd) && sd.derivation === 'constraint') {
      checkObligationElements(sd, registry, path, (at, message) => ctx.issues.error('business-rule', at, message), (at, message) => ctx.issues.warning('not-found', at, message));
    }
    if (sd.derivation === 'constraint' && registry.getTypeDefinition(root)) {
      (sd.differential?.element ?? []).forEach((element, i) => {
        const wrongChoice = typeof element.path === 'string' ? misnamedChoice(registry, element.path) : undefined;
        if (wrongChoice) {
          ctx.issues.error('structure', `${path}.differential.element[${i}]`, `The path must be '${wrongChoice}' not '${element.path}': a choice is renamed only with one of its types (profiling.html#choice)`);
        }
      });
      (sd.differential?.element ?? []).forEach((element, i) => {
        (element.slicing?.discriminator ?? []).forEach((d, j) => {
          if (typeof element.path !== 'string' || typeof d?.path !== 'string') return;
          const first = d.path.replace(/^\$this\.?/, '').split('.')[0];
          if (!first || /[()]/.test(first)) return; // $this, resolve(), extension('…'), ofType(…)
          const children = childNames(registry, element.path);
          if (!children || children.has(first)) return;
          ctx.issues.error(
            'structure',
            `${path}.differential.element[${i}].slicing.discriminator[${j}]`,
            `The discriminator path '${d.path}' does not appear to be valid for the element that is being sliced '${element.path}'`,
          );
        });
      });
    }
  };
}

/**
 * A constraint cannot undo its base (profiling.html#constraints: "profiles cannot break the rules
 * established in the base"): an element its base fixes to a value can only be fixed to that value.
 * Checked against a base profile the registry holds (core definitions fix nothing).
 */
function checkFixedAgainstBase(sd: StructureDefinition, registry: ConformanceRegistry, path: string, error: (at: string, message: string) => void): void {
  const base = typeof sd.baseDefinition === 'string' ? registry.getStructureDefinition(sd.baseDefinition) : undefined;
  if (!base || base.derivation !== 'constraint') return;
  let baseElements: ElementDefinition[];
  try {
    baseElements = snapshotElements(base, registry);
  } catch {
    return; // an unusable base is reported where it is used
  }
  (sd.differential?.element ?? []).forEach((element, i) => {
    const mine = fixedOf(element);
    if (!mine) return;
    const theirs = baseElements.find((e) => (e.id ?? e.path) === (element.id ?? element.path));
    const fixed = theirs ? fixedOf(theirs) : undefined;
    if (!fixed || fixed.key !== mine.key || JSON.stringify(fixed.value) === JSON.stringify(mine.value)) return;
    error(
      `${path}.differential.element[${i}].${mine.key}`,
      `Value is ${JSON.stringify(mine.value)} but is fixed to ${JSON.stringify(fixed.value)} in the base profile ${base.url}, and a constraint cannot change it`,
    );
  });
}

/** The flag that marks an obligation profile, in the core namespace (R5 on) and in the tools IG's. */
const OBLIGATION_PROFILE = ['http://hl7.org/fhir/StructureDefinition/obligation-profile', 'http://hl7.org/fhir/tools/StructureDefinition/obligation-profile'];
/** A profile's obligation profiles, whose obligations it takes on. */
const INHERIT_OBLIGATIONS = ['http://hl7.org/fhir/StructureDefinition/inherit-obligations', 'http://hl7.org/fhir/tools/StructureDefinition/inherit-obligations'];

/**
 * Obligation profiles (R5 obligations.html; the FHIR tools IG's obligation-profile and
 * inherit-obligations extensions), as the HL7 validator's StructureDefinitionValidator checks
 * them: an obligation profile states obligations on another profile without constraining it, so
 * only a constraint can be one ("Only profiles that constrain another profile can be marked as an
 * obligation profile"); and a profile that inherits the obligations of one names a profile marked
 * as an obligation profile, on the same base as its own, since the obligations are stated on the
 * elements of that base ("…is not marked as an obligation profile", "…has a different base … from
 * that expected …"). An inherited profile that is not held is an error too, as in the HL7
 * validator: its obligations cannot be taken on.
 */
function checkObligationProfiles(sd: StructureDefinition, registry: ConformanceRegistry, path: string, error: (at: string, message: string) => void): void {
  if (isObligationProfile(sd) && sd.derivation !== 'constraint') {
    error(path, 'Only profiles that constrain another profile can be marked as an obligation profile');
  }
  (sd.extension ?? []).forEach((extension, i) => {
    if (!INHERIT_OBLIGATIONS.includes(extension?.url as string)) return;
    const where = `${path}.extension[${i}]`;
    const target = extension.valueCanonical ?? extension.valueUri;
    if (typeof target !== 'string') {
      error(where, 'Unable to read a value from this extension');
      return;
    }
    const inherited = registry.getStructureDefinition(target);
    if (!inherited) {
      error(where, `The profile '${target}' could not be found`);
    } else if (!isObligationProfile(inherited)) {
      error(where, `The profile '${target}' is not marked as an obligation profile`);
    } else if (!sd.baseDefinition || !inherited.baseDefinition || unversioned(sd.baseDefinition) !== unversioned(inherited.baseDefinition)) {
      error(where, `The profile '${target}' has a different base '${inherited.baseDefinition}' from that expected '${sd.baseDefinition}'`);
    }
  });
}

/** Obligations on an element, in the core namespace (R5 on) and in the tools IG's. */
const OBLIGATION = ['http://hl7.org/fhir/StructureDefinition/obligation', 'http://hl7.org/fhir/tools/StructureDefinition/obligation'];
const ADDITIONAL_BINDING = 'http://hl7.org/fhir/tools/StructureDefinition/additional-binding';
/** What an obligation profile's element may state besides obligations and a binding: it adds no constraint of its own. */
const OBLIGATION_ELEMENT_PROPERTIES = new Set(['id', 'path', 'mustSupport', 'min', 'max']);

/**
 * An obligation profile only adds obligations (the obligation extension), mustSupport and
 * additional bindings to the elements of its base (the HL7 validator's rules): each element of its
 * differential is one of the base's, at the same path, and states nothing else; a binding keeps the
 * base's strength, and an additional binding's purpose is not one that would constrain (maximum,
 * required, extensible). Checked against a base the registry holds; otherwise a warning.
 */
function checkObligationElements(
  sd: StructureDefinition,
  registry: ConformanceRegistry,
  path: string,
  error: (at: string, message: string) => void,
  warning: (at: string, message: string) => void,
): void {
  const base = typeof sd.baseDefinition === 'string' ? registry.getStructureDefinition(sd.baseDefinition) : undefined;
  let baseElements: ElementDefinition[] | undefined;
  try {
    baseElements = base ? snapshotElements(base, registry) : undefined;
  } catch {
    baseElements = undefined; // an unusable base is reported where it is used
  }
  if (!base || !baseElements) {
    warning(path, `The profile is marked as an obligation profile, but its correctness cannot be checked since the base profile '${sd.baseDefinition}' is not known`);
    return;
  }
  (sd.differential?.element ?? []).forEach((element, i) => {
    const where = `${path}.differential.element[${i}]`;
    const id = element.id ?? element.path;
    const inBase = baseElements.find((e) => (e.id ?? e.path) === id);
    if (!inBase) {
      error(where, `The element '${id}' has no equivalent in the profile '${base.url}${base.version ? `|${base.version}` : ''}' on which this Obligation Profile is based`);
      return;
    }
    for (const [key, value] of Object.entries(element)) {
      if (key.startsWith('_') || OBLIGATION_ELEMENT_PROPERTIES.has(key)) continue;
      if (key === 'extension') {
        (value as Extension[]).forEach((ext, j) => {
          if (!OBLIGATION.includes(ext?.url as string)) error(`${where}.extension[${j}]`, `The element '${id}' has a property 'extension#${ext?.url}' which is not allowed in Obligation profiles`);
        });
      } else if (key === 'binding') {
        checkObligationBinding(element.binding as ElementDefinitionBinding, inBase.binding, id as string, `${where}.binding`, error);
      } else {
        error(`${where}.${key}`, `The element '${id}' has a property '${key}' which is not allowed in Obligation profiles`);
      }
    }
    if (typeof element.path === 'string' && element.path !== inBase.path) {
      error(`${where}.path`, `The element '${id}' path value of '${element.path}' doesn't match the base path '${inBase.path}'`);
    }
  });
}

function checkObligationBinding(binding: ElementDefinitionBinding, inBase: ElementDefinitionBinding | undefined, id: string, where: string, error: (at: string, message: string) => void): void {
  if (!inBase) {
    error(where, `The element '${id}' has a binding when the base element does not, and this is not allowed in Obligation profiles`);
    return;
  }
  for (const [key, value] of Object.entries(binding)) {
    if (key.startsWith('_')) continue;
    if (key === 'extension') {
      (value as Extension[]).forEach((ext, j) => {
        if (ext?.url !== ADDITIONAL_BINDING) {
          error(`${where}.extension[${j}]`, `The element '${id}' has a property 'extension#${ext?.url}' which is not allowed in Obligation profiles`);
          return;
        }
        const purpose = ext.extension?.find((e) => e?.url === 'purpose')?.valueCode;
        if (purpose === 'maximum' || purpose === 'required' || purpose === 'extensible') {
          error(`${where}.extension[${j}]`, `The element '${id}' has an additional binding purpose of '${purpose}' which is not allowed in Obligation profiles`);
        }
      });
    } else if (key === 'strength') {
      if (value !== inBase.strength) {
        error(`${where}.strength`, `The element '${id}' has a different binding strength ('${value}') from the base ('${inBase.strength}') which is not allowed in Obligation profiles`);
      }
    } else {
      error(`${where}.${key}`, `The element '${id}' has a binding property '${key}' which is not allowed in Obligation profiles`);
    }
  }
}

function isObligationProfile(sd: StructureDefinition): boolean {
  return (sd.extension ?? []).some((e) => OBLIGATION_PROFILE.includes(e?.url as string) && e.valueBoolean === true);
}

function fixedOf(element: ElementDefinition): { key: string; value: unknown } | undefined {
  const key = Object.keys(element).find((k) => k.startsWith('fixed'));
  return key ? { key, value: (element as unknown as Record<string, unknown>)[key] } : undefined;
}

/**
 * Names of the children of the element at `path` in its R4 definition (a choice `value[x]` as
 * `value`), stepping into the data type of an element with one type; undefined when the path
 * cannot be followed here (then nothing is said about it).
 */
function childNames(registry: ConformanceRegistry, path: string): Set<string> | undefined {
  const found = resolveElement(registry, path);
  if (!found) return undefined;
  let names = directChildren(found.elements, found.prefix);
  if (names.length === 0) {
    const inType = intoType(registry, found.element);
    names = inType ? directChildren(inType.elements, inType.prefix) : [];
  }
  return names.length > 0 ? new Set(names) : undefined;
}

/**
 * The choice element a path misnames: `Observation.valueBla` where `Observation.value[x]` has no
 * type Bla. Only this is said here; a path that names nothing at all is the snapshot generator's
 * to report (conformance-check.ts), where an unusable profile from a package is a warning.
 */
function misnamedChoice(registry: ConformanceRegistry, path: string): string | undefined {
  const dot = path.lastIndexOf('.');
  if (dot < 0) return undefined;
  const segment = path.slice(dot + 1);
  const parent = resolveElement(registry, path.slice(0, dot));
  if (!parent) return undefined;
  const inType = directChildren(parent.elements, parent.prefix).length > 0 ? { elements: parent.elements, prefix: parent.prefix } : intoType(registry, parent.element);
  if (!inType || childNamed(inType.elements, inType.prefix, segment)) return undefined;
  for (const e of inType.elements) {
    const p = e.path as string;
    if (!p?.startsWith(`${inType.prefix}.`) || !p.endsWith('[x]') || p.slice(inType.prefix.length + 1).includes('.')) continue;
    const base = p.slice(inType.prefix.length + 1, -3);
    if (!segment.startsWith(base) || !/^[A-Z]/.test(segment.slice(base.length))) continue;
    const suffix = segment.slice(base.length).toLowerCase();
    if ((e.type ?? []).some((t) => (t.code as string).toLowerCase() === suffix)) return undefined;
    return `${path.slice(0, dot)}.${base}[x]`;
  }
  return undefined;
}

interface Located {
  elements: ElementDefinition[];
  prefix: string;
  element: ElementDefinition;
}

function resolveElement(registry: ConformanceRegistry, path: string): Located | undefined {
  const segments = path.split('.');
  let elements = registry.getTypeDefinition(segments[0])?.snapshot?.element;
  if (!elements?.length) return undefined;
  let prefix = segments[0];
  let element = elements[0];
  for (const segment of segments.slice(1)) {
    let next = childNamed(elements, prefix, segment);
    if (!next) {
      const inType = intoType(registry, element);
      if (!inType) return undefined;
      elements = inType.elements;
      prefix = inType.prefix;
      next = childNamed(elements, prefix, segment);
      if (!next) return undefined;
    }
    element = next;
    prefix = next.path as string;
  }
  return { elements, prefix, element };
}

function childNamed(elements: ElementDefinition[], prefix: string, segment: string): ElementDefinition | undefined {
  return elements.find((e) => e.path === `${prefix}.${segment}` || e.path === `${prefix}.${segment}[x]`);
}

/** The definition of an element's one data type (not for content references or several types). */
function intoType(registry: ConformanceRegistry, element: ElementDefinition): { elements: ElementDefinition[]; prefix: string } | undefined {
  const codes = (element.type ?? []).map((t) => t.code as string);
  if (element.contentReference || codes.length !== 1) return undefined;
  const elements = registry.getTypeDefinition(codes[0])?.snapshot?.element;
  return elements ? { elements, prefix: codes[0] } : undefined;
}

function directChildren(elements: ElementDefinition[], prefix: string): string[] {
  return elements
    .map((e) => e.path as string)
    .filter((p) => p?.startsWith(`${prefix}.`) && !p.slice(prefix.length + 1).includes('.'))
    .map((p) => p.slice(prefix.length + 1).replace(/\[x\]$/, ''));
}

function checkTypeProfiles(element: ElementDefinition, where: string, registry: ConformanceRegistry, error: (at: string, message: string) => void): void {
  (element.type ?? []).forEach((type, t) => {
    (type.profile ?? []).forEach((profile, p) => {
      const target = registry.getStructureDefinition(profile);
      if (!target?.type || !type.code || target.type === type.code) return;
      // A resource element (Resource, DomainResource) may be profiled with any resource's profile.
      if ((type.code === 'Resource' || type.code === 'DomainResource') && target.kind === 'resource') return;
      error(`${where}.type[${t}].profile[${p}]`, `Profile ${profile} is for type ${target.type}, but the ${element.path} element has type ${type.code}`);
    });
  });
}

import { nestedContext, type ValidationContext } from './context.js';
import { IssueList } from './issues.js';
import type { ConformanceRegistry } from './registry.js';
import type { ElementNode } from './model.js';
import { checkItems, type ProfileItem, type ProfileNode } from './profile-walk.js';
import type { Terminology } from './terminology.js';
import { deepEqual, matchesPattern } from './values.js';

/**
 * Slicing (http://hl7.org/fhir/R4/profiling.html#slicing): each value of a sliced element is
 * assigned to the first slice whose discriminators it matches; each slice then checks its own
 * cardinality and constraints on the values assigned to it; with `closed` rules a value that matches
 * no slice is an error. Discriminators supported: value and pattern (fixed[x], pattern[x], a required
 * binding, or an extension slice's profile URL for `url`; a slice that fixes nothing at one of
 * several paths admits any value there), exists, type (of a value, of a choice's value, of what
 * `resolve()` points to) and profile. Not supported: `ordered` slicing (reported as a warning, never
 * assumed to pass).
 */
export type SlicingCheck = (items: ProfileItem[], where: string, ctx: ValidationContext) => void;

type Matcher = (item: ProfileItem, ctx: ValidationContext) => boolean;

interface CompiledSlice {
  name: string;
  node: ProfileNode;
  matchers: Matcher[];
}

export function compileSlicing(
  sliced: ElementNode,
  compileSlice: (slice: ElementNode) => ProfileNode,
  terminology: Terminology,
  profileUrl: string,
  registry?: ConformanceRegistry,
): SlicingCheck {
  const slicing = sliced.def.slicing;
  // Extensions are always sliced by url (http://hl7.org/fhir/R4/profiling.html#slicing), even
  // when a differential declares extension slices without repeating the slicing.
  const isExtension = sliced.name === 'extension' || sliced.name === 'modifierExtension';
  const discriminators = slicing?.discriminator?.length ? slicing.discriminator : isExtension ? [{ type: 'value' as const, path: 'url' }] : [];
  const unsupported: string[] = [];
  if (slicing?.ordered) unsupported.push(`ordered slicing of ${sliced.path} is not checked`);
  const slices: CompiledSlice[] = [];
  for (const slice of sliced.slices) {
    const matchers: Matcher[] = [];
    let ok = discriminators.length > 0;
    let unconstrained = 0;
    for (const d of discriminators) {
      const matcher = compileDiscriminator(slice, d.type as string, d.path as string, terminology, registry);
      if (matcher === 'any') unconstrained++;
      else if (matcher) matchers.push(matcher);
      else ok = false;
    }
    // A slice that fixes no value at one of several discriminator paths admits any value there (the
    // HL7 validator's reading); one that fixes none of them cannot be told apart.
    if (unconstrained === discriminators.length) ok = false;
    if (!ok) {
      unsupported.push(
        `slice ${slice.sliceName} of ${sliced.path} cannot be recognised (discriminator ${discriminators.map((d) => `${d.type}:${d.path}`).join(', ') || 'missing'}), so its rules are not checked`,
      );
      continue;
    }
    slices.push({ name: slice.sliceName as string, node: compileSlice(slice), matchers });
  }
  // A value that matches no recognisable slice may belong to one we cannot recognise: closed slicing
  // is then not enforced (the unsupported slices are named in warnings).
  const closed = slicing?.rules === 'closed' && slices.length === sliced.slices.length;

  return (items, where, ctx) => {
    for (const note of unsupported) ctx.issues.warning('not-supported', where, `Profile ${profileUrl}: ${note}`);
    const assigned = slices.map(() => [] as ProfileItem[]);
    for (const item of items) {
      const index = slices.findIndex((s) => s.matchers.every((m) => m(item, ctx)));
      if (index >= 0) assigned[index].push(item);
      else if (closed) {
        ctx.issues.error(
          'structure',
          item.path,
          `${item.path} matches none of the slices of ${sliced.path} (${slices.map((s) => s.name).join(', ')}), and the slicing is closed in profile ${profileUrl}`,
        );
      }
    }
    slices.forEach((slice, i) => checkItems(slice.node, assigned[i], where.slice(0, where.lastIndexOf('.')), ctx));
  };
}

/** Finds the element at a discriminator path below a slice, e.g. `coding.system`; `$this` is the slice. */
function elementAt(slice: ElementNode, path: string): ElementNode | undefined {
  if (path === '$this') return slice;
  let node: ElementNode | undefined = slice;
  for (const segment of path.split('.')) {
    node = node?.children.find((c) => c.name === segment || (c.isChoice && c.baseName === segment));
  }
  return node;
}

function valuesAt(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  if (path === '$this') return current;
  for (const segment of path.split('.')) {
    const next: unknown[] = [];
    for (const v of current) {
      if (v === null || typeof v !== 'object') continue;
      const child = (v as Record<string, unknown>)[segment];
      if (Array.isArray(child)) next.push(...child);
      else if (child !== undefined) next.push(child);
    }
    current = next;
  }
  return current;
}

function compileDiscriminator(slice: ElementNode, type: string, path: string, terminology: Terminology, registry?: ConformanceRegistry): Matcher | 'any' | undefined {
  const element = elementAt(slice, path);
  switch (type) {
    case 'value':
    case 'pattern': {
      const def = element?.def as unknown as Record<string, unknown> | undefined;
      const key = def && Object.keys(def).find((k) => k.startsWith('fixed') || k.startsWith('pattern'));
      if (key) {
        const expected = def[key];
        const exact = key.startsWith('fixed');
        return (item) => valuesAt(item.value, path).some((v) => (exact ? deepEqual(v, expected) : matchesPattern(v, expected)));
      }
      // An extension slice is recognised by the url of its profile (http://hl7.org/fhir/R4/profiling.html#slicing).
      const extensionUrl = path === 'url' ? slice.def.type?.find((t) => t.code === 'Extension')?.profile?.[0] : undefined;
      if (extensionUrl) return (item) => valuesAt(item.value, 'url').includes(extensionUrl);
      // A slice that prohibits the element (max 0) admits only values without it.
      if (element?.max === 0) return (item) => valuesAt(item.value, path).length === 0;
      const binding = element?.def.binding;
      if (binding?.strength === 'required' && binding.valueSet) {
        const url = binding.valueSet;
        return (item) =>
          valuesAt(item.value, path).some((v) => {
            const expansion = terminology.expand(url);
            if (!expansion) return false;
            if (typeof v === 'string') return expansion.hasCode(v) === true;
            const codings = Array.isArray((v as { coding?: unknown })?.coding) ? ((v as { coding: unknown[] }).coding as Array<Record<string, unknown>>) : [v as Record<string, unknown>];
            return codings.some((c) => typeof c?.code === 'string' && expansion.has(c.system as string | undefined, c.code) === true);
          });
      }
      // A fixed or pattern value on an element above the path fixes the value at the path too
      // (e.g. a slice fixedContactPoint {use: home} with the discriminator `use`).
      const inherited = inheritedValue(slice, path);
      if (inherited) {
        const { expected, exact } = inherited;
        return (item) => valuesAt(item.value, path).some((v) => (exact ? deepEqual(v, expected) : matchesPattern(v, expected)));
      }
      // The slice constrains nothing at this path (e.g. Patient.telecom sliced by system and use, a
      // slice fixing only system).
      return 'any';
    }
    case 'exists': {
      if (!element) return undefined;
      const mustExist = element.min > 0 ? true : element.max === 0 ? false : undefined;
      if (mustExist === undefined) return undefined;
      return (item) => valuesAt(item.value, path).length > 0 === mustExist;
    }
    case 'type': {
      if (path.endsWith('resolve()')) return resolvedTypeMatcher(slice, path);
      if (element?.isChoice && path !== '$this') return choiceTypeMatcher(element, path);
      if (!element || element.types.length === 0) return undefined;
      const allowed = new Set(element.types);
      return (item) => {
        if (path !== '$this') return valuesAt(item.value, path).some((v) => allowed.has((v as { resourceType?: string })?.resourceType ?? ''));
        const resourceType = (item.value as { resourceType?: unknown } | null)?.resourceType;
        return allowed.has(item.type) || (typeof resourceType === 'string' && allowed.has(resourceType));
      };
    }
    case 'profile':
      return registry ? profileMatcher(slice, path, registry) : undefined;
    default:
      return undefined;
  }
}

/** The value a fixed[x] or pattern[x] on the slice or an element between it and `path` gives `path`. */
function inheritedValue(slice: ElementNode, path: string): { expected: unknown; exact: boolean } | undefined {
  if (path === '$this') return undefined;
  const segments = path.split('.');
  let node: ElementNode | undefined = slice;
  for (let i = 0; i < segments.length && node; i++) {
    const def = node.def as unknown as Record<string, unknown>;
    const key = Object.keys(def).find((k) => k.startsWith('fixed') || k.startsWith('pattern'));
    if (key) {
      const found = valuesAt(def[key], segments.slice(i).join('.'));
      return found.length === 1 ? { expected: found[0], exact: key.startsWith('fixed') } : undefined;
    }
    node = node.children.find((c) => c.name === segments[i] || (c.isChoice && c.baseName === segments[i]));
  }
  return undefined;
}

/** `type` at a choice element (e.g. `content` for content[x]): the type of the value present. */
function choiceTypeMatcher(element: ElementNode, path: string): Matcher | undefined {
  if (element.types.length === 0) return undefined;
  const allowed = new Set(element.types.map((t) => t.toLowerCase()));
  const parentPath = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '$this';
  return (item) =>
    valuesAt(item.value, parentPath).some((holder) => {
      if (holder === null || typeof holder !== 'object') return false;
      return Object.keys(holder).some((key) => key.startsWith(element.baseName) && allowed.has(key.slice(element.baseName.length).toLowerCase()));
    });
}

/**
 * `type` at `x.resolve()` (profiling.html#discriminator): the type of the resource a reference
 * points to, from the element's target profiles; a contained target (`#id`) is looked up, any other
 * reference is typed by its literal `Type/id`.
 */
function resolvedTypeMatcher(slice: ElementNode, path: string): Matcher | undefined {
  const refPath = path === 'resolve()' ? '$this' : path.slice(0, -'.resolve()'.length);
  const element = elementAt(slice, refPath);
  const targets = element?.def.type?.flatMap((t) => t.targetProfile ?? []) ?? [];
  if (targets.length === 0) return undefined;
  const allowed = new Set(targets.map((t) => t.slice(t.lastIndexOf('/') + 1).split('|')[0]));
  return (item, ctx) =>
    valuesAt(item.value, refPath).some((ref) => {
      const reference = (ref as { reference?: unknown } | null)?.reference;
      if (typeof reference !== 'string') return false;
      const type = reference.startsWith('#') ? containedType(ctx, reference.slice(1)) : /([A-Z][A-Za-z]+)\/[^/]+(?:\/_history\/[^/]+)?$/.exec(reference)?.[1];
      return type !== undefined && allowed.has(type);
    });
}

function containedType(ctx: ValidationContext, id: string): string | undefined {
  const contained = (ctx.resource.value as { contained?: unknown }).contained;
  const found = Array.isArray(contained) ? contained.find((r) => (r as { id?: unknown })?.id === id) : undefined;
  const type = (found as { resourceType?: unknown } | undefined)?.resourceType;
  return typeof type === 'string' ? type : undefined;
}

/**
 * `profile` (profiling.html#discriminator): the value at the path conforms to the type profile the
 * slice gives it; tried on a scratch issue list, so a value that does not match reports nothing here.
 */
function profileMatcher(slice: ElementNode, path: string, registry: ConformanceRegistry): Matcher | undefined {
  const at = path.replace(/^\$this\.?/, '') || '$this';
  const element = elementAt(slice, at);
  const profiles = element?.def.type?.flatMap((t) => (t.profile ?? []).map((url) => ({ code: t.code, url }))) ?? [];
  if (profiles.length === 0) return undefined;
  return (item, ctx) =>
    valuesAt(item.value, at).some((value) =>
      profiles.some(({ code, url }) => {
        const scratch = new IssueList();
        const resourceType = (value as { resourceType?: unknown } | null)?.resourceType;
        if (typeof resourceType === 'string' && resourceType !== code && code !== 'Resource' && code !== 'DomainResource') return false;
        const sd = registry.getStructureDefinition(url);
        if (!sd || (typeof resourceType === 'string' && sd.type !== resourceType)) return false;
        // A core definition adds nothing to what base validation checks: its type is the match.
        if (sd.derivation !== 'constraint') return true;
        const inner: ValidationContext =
          typeof resourceType === 'string' ? { ...nestedContext(ctx, { type: resourceType, value }, false), issues: scratch } : { ...ctx, issues: scratch };
        const known = ctx.engine.checkAgainstProfile(url, value, item.path, inner);
        return known && !scratch.items.some((i) => i.severity === 'error');
      }),
    );
}

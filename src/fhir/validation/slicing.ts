import type { ValidationContext } from './context.js';
import type { ElementNode } from './model.js';
import { checkItems, type ProfileItem, type ProfileNode } from './profile-walk.js';
import type { Terminology } from './terminology.js';
import { deepEqual, matchesPattern } from './values.js';

/**
 * Slicing (http://hl7.org/fhir/R4/profiling.html#slicing): each value of a sliced element is
 * assigned to the first slice whose discriminators it matches; each slice then checks its own
 * cardinality and constraints on the values assigned to it; with `closed` rules a value that matches
 * no slice is an error. Discriminators supported: value and pattern (fixed[x], pattern[x], a required
 * binding, or an extension slice's profile URL for `url`), exists, and type. Not supported: profile
 * discriminators and `ordered` slicing (reported as warnings, never assumed to pass).
 */
export type SlicingCheck = (items: ProfileItem[], where: string, ctx: ValidationContext) => void;

type Matcher = (item: ProfileItem) => boolean;

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
    for (const d of discriminators) {
      const matcher = compileDiscriminator(slice, d.type as string, d.path as string, terminology);
      if (matcher) matchers.push(matcher);
      else ok = false;
    }
    if (!ok) {
      unsupported.push(
        `slice ${slice.sliceName} of ${sliced.path} cannot be recognised (discriminator ${discriminators.map((d) => `${d.type}:${d.path}`).join(', ') || 'missing'}), so its rules are not checked`,
      );
      continue;
    }
    slices.push({ name: slice.sliceName as string, node: compileSlice(slice), matchers });
  }
  const closed = slicing?.rules === 'closed';

  return (items, where, ctx) => {
    for (const note of unsupported) ctx.issues.warning('not-supported', where, `Profile ${profileUrl}: ${note}`);
    const assigned = slices.map(() => [] as ProfileItem[]);
    for (const item of items) {
      const index = slices.findIndex((s) => s.matchers.every((m) => m(item)));
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

function compileDiscriminator(slice: ElementNode, type: string, path: string, terminology: Terminology): Matcher | undefined {
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
      return undefined;
    }
    case 'exists': {
      if (!element) return undefined;
      const mustExist = element.min > 0 ? true : element.max === 0 ? false : undefined;
      if (mustExist === undefined) return undefined;
      return (item) => valuesAt(item.value, path).length > 0 === mustExist;
    }
    case 'type': {
      if (!element || element.types.length === 0) return undefined;
      const allowed = new Set(element.types);
      return (item) => {
        if (path !== '$this') return valuesAt(item.value, path).some((v) => allowed.has((v as { resourceType?: string })?.resourceType ?? ''));
        const resourceType = (item.value as { resourceType?: unknown } | null)?.resourceType;
        return allowed.has(item.type) || (typeof resourceType === 'string' && allowed.has(resourceType));
      };
    }
    default:
      return undefined;
  }
}

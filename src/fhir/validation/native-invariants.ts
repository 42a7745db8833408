import type { ValidationContext, ValueCheck } from './context.js';
import { compareDates } from './dates.js';
import { nhsNumberRule } from './rules.js';

/**
 * Invariants checked without medplum's FHIRPath engine: those it cannot evaluate (stub functions,
 * htmlChecks, string comparison of dateTimes), a few very frequent ones, for speed, and a profile's
 * restatement of a type rule, so that one problem is reported once. Each native rule stands for one
 * exact expression; invariants.test.ts checks that each agrees with FHIRPath on values where
 * medplum's engine is right (test/profiles does so for stepwise-nhs-number-1).
 */

/** How the keys medplum's engine cannot evaluate (or evaluates wrongly) are checked instead. */
export const invariantStrategies: Readonly<Record<string, { how: 'structural' | 'native' | 'rule'; reason: string }>> = {
  'ele-1': {
    how: 'structural',
    reason: 'children() is a stub in medplum; the walker reports every empty object, array and string (json-walk.ts)',
  },
  'txt-1': {
    how: 'structural',
    reason: "htmlChecks() always returns true in medplum; the div is checked against the reference validator's element and attribute lists (xhtml.ts)",
  },
  'txt-2': { how: 'structural', reason: 'htmlChecks() always returns true in medplum; checked in xhtml.ts' },
  'dom-3': { how: 'native', reason: 'descendants() is a stub in medplum' },
  'que-2': { how: 'native', reason: 'descendants() is a stub in medplum' },
  'csd-1': { how: 'native', reason: 'descendants() is a stub in medplum' },
  'sdf-9': { how: 'native', reason: 'children() is a stub in medplum' },
  'que-12': {
    how: 'native',
    reason:
      "R4's expression says enableWhen.count() > 2, against its own words ('more than one enableWhen') and R5's count() > 1; the HL7 validator refuses two enableWhen without enableBehavior, as the words say",
  },
  'per-1': {
    how: 'native',
    reason: 'medplum compares dateTimes as strings (wrong across time zones) and its hasValue() ignores extension-only values',
  },
  'ext-1': { how: 'native', reason: 'on every extension; a key test is much faster than FHIRPath and means the same' },
  'ref-1': {
    how: 'native',
    reason:
      "on every Reference; native for speed. Same result as the R4 expression, except that '#' inside a contained resource (a reference to its container, which references.html#contained and dom-3 allow) passes, as in R5's ref-1",
  },
  'dom-2': { how: 'native', reason: 'on every resource; native for speed, same result as the R4 expression' },
  'dom-4': { how: 'native', reason: 'on every resource; native for speed, same result as the R4 expression' },
  'dom-5': { how: 'native', reason: 'on every resource; native for speed, same result as the R4 expression' },
  'bdl-5': { how: 'native', reason: 'on every Bundle entry; native for speed, same result as the R4 expression' },
  'bdl-8': { how: 'native', reason: 'on every Bundle entry; native for speed, same result as the 4.0.1 expression' },
  'stepwise-nhs-number-1': {
    how: 'rule',
    reason:
      "StepwisePatient's NHS number constraint restates the Modulus 11 rule (rules.ts) in FHIRPath for tools without it; the rule runs instead, so its issue (same element, more precise words) is reported once",
  },
};

/**
 * The exact expressions the native and rule-backed checks stand for (R4 4.0.1, and the Stepwise
 * profile's). A constraint with one of these keys but a different expression (a profile reusing a
 * key, or an edited profile) is evaluated with FHIRPath instead.
 */
export const nativeExpressions: Readonly<Record<string, string>> = {
  'ext-1': 'extension.exists() != value.exists()',
  'per-1': 'start.hasValue().not() or end.hasValue().not() or (start <= end)',
  'ref-1': "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))",
  'dom-2': 'contained.contained.empty()',
  'dom-3':
    "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
  'dom-4': 'contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()',
  'dom-5': 'contained.meta.security.empty()',
  'bdl-5': 'resource.exists() or request.exists() or response.exists()',
  'bdl-8': "fullUrl.contains('/_history/').not()",
  'que-2': 'descendants().linkId.isDistinct()',
  'que-12': 'enableWhen.count() > 2 implies enableBehavior.exists()',
  'csd-1': 'concept.code.combine($this.descendants().concept.code).isDistinct()',
  'stepwise-nhs-number-1':
    "value.exists() implies (value.matches('^[0-9]{10}$') and ((11 - ((value.substring(0,1).toInteger() * 10 + value.substring(1,1).toInteger() * 9 + value.substring(2,1).toInteger() * 8 + value.substring(3,1).toInteger() * 7 + value.substring(4,1).toInteger() * 6 + value.substring(5,1).toInteger() * 5 + value.substring(6,1).toInteger() * 4 + value.substring(7,1).toInteger() * 3 + value.substring(8,1).toInteger() * 2) mod 11)) mod 11) = value.substring(9,1).toInteger())",
  'sdf-9':
    "children().element.where(path.contains('.').not()).label.empty() and children().element.where(path.contains('.').not()).code.empty() and children().element.where(path.contains('.').not()).requirements.empty()",
};

/**
 * Invariants that say what a type rule (rules.ts) already checks on every value of the type. The
 * rule is run in their place: it reports the identical issue, which Validator.validate keeps once.
 */
export const ruleInvariants: Readonly<Record<string, ValueCheck>> = {
  // On Patient.identifier:nhsNumber (system https://fhir.nhs.uk/Id/nhs-number), where the rule applies.
  'stepwise-nhs-number-1': nhsNumberRule,
};

type NativeRule = (value: Record<string, unknown>, ctx: ValidationContext) => boolean;

export const nativeRules: Record<string, NativeRule> = {
  'ext-1': (v) => ('extension' in v) !== Object.keys(v).some((k) => k.startsWith('value') || k.startsWith('_value')),
  'per-1': (v) => {
    const start = v.start;
    const end = v.end;
    if (typeof start !== 'string' || typeof end !== 'string') return true;
    return compareDates(start, end) !== 1;
  },
  // "If there are more than one enableWhen, enableBehavior must be specified" (see invariantStrategies)
  'que-12': (v) => !(Array.isArray(v.enableWhen) && v.enableWhen.length > 1) || v.enableBehavior !== undefined,
  // with contained resources ignored, the HL7 validator does not read them to see what they refer to
  'dom-3': (v, ctx) => ctx.containedResources === 'ignore' || containedAreReferenced(v, ctx.resource.value as Record<string, unknown>),
  'ref-1': (v, ctx) => {
    const reference = v.reference;
    if (typeof reference !== 'string' || !reference.startsWith('#')) return true;
    if (reference === '#') return ctx.resource.value !== ctx.rootResource.value;
    const id = reference.slice(1);
    return asArray((ctx.rootResource.value as Record<string, unknown>).contained).some((c) => (c as { id?: unknown } | null)?.id === id);
  },
  'dom-2': (v) => asArray(v.contained).every((c) => (c as Record<string, unknown> | null)?.contained === undefined),
  'dom-4': (v) =>
    asArray(v.contained).every((c) => {
      const meta = (c as { meta?: Record<string, unknown> } | null)?.meta;
      return meta?.versionId === undefined && meta?.lastUpdated === undefined;
    }),
  'dom-5': (v) => asArray(v.contained).every((c) => (c as { meta?: Record<string, unknown> } | null)?.meta?.security === undefined),
  'bdl-5': (v) => v.resource !== undefined || v.request !== undefined || v.response !== undefined,
  'bdl-8': (v) => typeof v.fullUrl !== 'string' || !v.fullUrl.includes('/_history/'),
  'que-2': (v) => allDistinct(collect(v.item, 'item', 'linkId')),
  'csd-1': (v) => allDistinct(collect(v.concept, 'concept', 'code')),
  'sdf-9': (v) =>
    [v.snapshot, v.differential].every((part) =>
      asArray((part as Record<string, unknown> | undefined)?.element).every((e) => {
        const el = e as Record<string, unknown>;
        return typeof el.path !== 'string' || el.path.includes('.') || (el.label === undefined && el.code === undefined && el.requirements === undefined);
      }),
    ),
};

function asArray(x: unknown): unknown[] {
  return Array.isArray(x) ? x : x === undefined ? [] : [x];
}

/** Values of `field` in a tree whose nesting property is `nest` (Questionnaire.item, CodeSystem.concept). */
function collect(list: unknown, nest: string, field: string, out: unknown[] = []): unknown[] {
  for (const item of asArray(list)) {
    if (item === null || typeof item !== 'object') continue;
    const o = item as Record<string, unknown>;
    if (o[field] !== undefined) out.push(o[field]);
    collect(o[nest], nest, field, out);
  }
  return out;
}

function allDistinct(values: unknown[]): boolean {
  return new Set(values).size === values.length;
}

/**
 * dom-3: each contained resource is referenced from elsewhere in the resource ('#id' as a reference,
 * canonical, uri or url anywhere, including other contained resources, such as a contained
 * Binary's securityContext, a narrative's `<img src="#id">` or `<a href="#id">`, as the HL7 validator
 * counts them), or itself refers to its container with '#'. One without an id passes,
 * as in FHIRPath ('#' + {} is empty): its missing id is reported by contained.ts.
 */
function containedAreReferenced(container: Record<string, unknown>, resource: Record<string, unknown> | undefined): boolean {
  const contained = asArray(container.contained);
  if (contained.length === 0) return true;
  const localRefs = new Set<string>();
  collectLocalReferences(resource ?? container, localRefs);
  return contained.every((c) => {
    if (c === null || typeof c !== 'object') return true;
    const id = (c as Record<string, unknown>).id;
    if (typeof id !== 'string') return true;
    if (localRefs.has('#' + id)) return true;
    const own = new Set<string>();
    collectLocalReferences(c as Record<string, unknown>, own);
    return own.has('#');
  });
}

/** `href="#x"` and `src="#x"` in narrative: the HL7 validator counts them as references for dom-3. */
const NARRATIVE_LINK = /\s(?:href|src)\s*=\s*["'](#[^"']*)["']/g;

function collectLocalReferences(node: unknown, out: Set<string>): void {
  if (typeof node === 'string') {
    if (node.startsWith('#')) out.add(node);
    else if (node.startsWith('<div')) for (const m of node.matchAll(NARRATIVE_LINK)) out.add(m[1]);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) collectLocalReferences(item, out);
    return;
  }
  for (const key in node) collectLocalReferences((node as Record<string, unknown>)[key], out);
}

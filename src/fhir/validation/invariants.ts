import {
  ArithmeticOperatorAtom,
  type Atom,
  type AtomContext,
  evalFhirPathTyped,
  type FhirPathAtom,
  FunctionAtom,
  parseFhirPath,
  type TypedValue,
} from '@medplum/core';
import type { ElementDefinitionConstraint } from '@medplum/fhirtypes';
import type { ValidationContext } from './context.js';
import { compareDates } from './dates.js';

/**
 * Error-level invariants (ElementDefinition.constraint with severity error,
 * http://hl7.org/fhir/R4/conformance-rules.html#constraints), evaluated with @medplum/core's FHIRPath
 * engine. Each expression is parsed once. An invariant fails when it evaluates to false; an empty
 * result (unknown, e.g. comparing dates of different precision) is not a failure. A constraint whose
 * expression the engine cannot evaluate is reported as a warning, never passed silently.
 */

/** How the keys medplum's engine cannot evaluate (or evaluates wrongly) are checked instead. */
export const invariantStrategies: Readonly<Record<string, { how: 'structural' | 'native'; reason: string }>> = {
  'ele-1': {
    how: 'structural',
    reason: 'children() is a stub in medplum; the walker reports every empty object, array and string (compile.ts)',
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
};

/**
 * The R4 4.0.1 expressions the native rules stand for. A constraint with one of these keys but a
 * different expression (a profile reusing a key) is evaluated with FHIRPath instead.
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
  'csd-1': 'concept.code.combine($this.descendants().concept.code).isDistinct()',
  'sdf-9':
    "children().element.where(path.contains('.').not()).label.empty() and children().element.where(path.contains('.').not()).code.empty() and children().element.where(path.contains('.').not()).requirements.empty()",
};

/** Functions medplum parses but implements as stubs (empty result) or as constant answers. */
const unsupportedFunctions = new Set([
  'children',
  'descendants',
  'repeat',
  'htmlChecks',
  'encode',
  'decode',
  'escape',
  'unescape',
  'trim',
  'split',
  'memberOf',
  'aggregate',
]);

const UCUM: TypedValue = { type: 'uri', value: 'http://unitsofmeasure.org' };
const SCT: TypedValue = { type: 'uri', value: 'http://snomed.info/sct' };
const LOINC: TypedValue = { type: 'uri', value: 'http://loinc.org' };

export type InvariantCheck = (value: unknown, path: string, ctx: ValidationContext) => void;

type NativeRule = (value: Record<string, unknown>, ctx: ValidationContext) => boolean;

const nativeRules: Record<string, NativeRule> = {
  'ext-1': (v) => ('extension' in v) !== Object.keys(v).some((k) => k.startsWith('value') || k.startsWith('_value')),
  'per-1': (v) => {
    const start = v.start;
    const end = v.end;
    if (typeof start !== 'string' || typeof end !== 'string') return true;
    return compareDates(start, end) !== 1;
  },
  'dom-3': (v, ctx) => containedAreReferenced(v, ctx.resource.value as Record<string, unknown>),
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

export class InvariantCompiler {
  private readonly parsed = new Map<string, { atom: FhirPathAtom; unsupported: string[] } | { error: string }>();

  /**
   * A check for one constraint at an element whose FHIRPath type name is `fhirType`
   * (medplum's name for backbone elements, e.g. PatientContact). Undefined when nothing is to be checked
   * here: warnings and best practices, and keys checked structurally.
   */
  compile(constraint: ElementDefinitionConstraint, fhirType: string): InvariantCheck | undefined {
    const key = constraint.key as string;
    if (constraint.severity !== 'error' || !constraint.expression) return undefined;
    const strategy = invariantStrategies[key];
    if (strategy?.how === 'structural') return undefined;
    const human = constraint.human ?? key;
    const message = `Constraint ${key} failed: ${human}`;
    const native = strategy?.how === 'native' && nativeExpressions[key] === constraint.expression ? nativeRules[key] : undefined;
    if (native) {
      return (value, path, ctx) => {
        if (value !== null && typeof value === 'object' && !native(value as Record<string, unknown>, ctx)) {
          ctx.issues.error('invariant', path, message, key);
        }
      };
    }
    const parsed = this.parse(constraint.expression);
    if ('error' in parsed || parsed.unsupported.length > 0) {
      const why = 'error' in parsed ? `it does not parse (${parsed.error})` : `it uses ${parsed.unsupported.join(', ')}(), which the FHIRPath engine does not implement`;
      return (_value, path, ctx) =>
        ctx.issues.warning('not-supported', path, `Constraint ${key} (${human}) was not checked: ${why}`, key);
    }
    const atom = parsed.atom;
    return (value, path, ctx) => {
      const focus: TypedValue = { type: fhirType, value };
      let result: TypedValue[];
      try {
        result = evalFhirPathTyped(atom, [focus], {
          '%context': focus,
          '%resource': ctx.resource,
          '%rootResource': ctx.rootResource,
          '%ucum': UCUM,
          '%sct': SCT,
          '%loinc': LOINC,
        });
      } catch (err) {
        ctx.issues.warning(
          'processing',
          path,
          `Constraint ${key} (${human}) could not be evaluated here: ${err instanceof Error ? err.message : String(err)}`,
          key,
        );
        return;
      }
      if (result.length === 1 && result[0].value === false) ctx.issues.error('invariant', path, message, key);
    };
  }

  private parse(expression: string): { atom: FhirPathAtom; unsupported: string[] } | { error: string } {
    let entry = this.parsed.get(expression);
    if (!entry) {
      try {
        const atom = parseFhirPath(expression);
        const functions = new Set<string>();
        entry = { atom: rewriteAtoms(atom, functions) as FhirPathAtom, unsupported: [] };
        entry.unsupported = [...functions].filter((f) => unsupportedFunctions.has(f));
      } catch (err) {
        entry = { error: err instanceof Error ? err.message : String(err) };
      }
      this.parsed.set(expression, entry);
    }
    return entry;
  }
}

/** Collects function names and swaps ordering operators for date-aware ones. Mutates the fresh AST. */
function rewriteAtoms(atom: Atom, functions: Set<string>): Atom {
  if (atom instanceof FunctionAtom) functions.add(atom.name);
  const fields = atom as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const child = fields[key];
    if (Array.isArray(child)) {
      fields[key] = child.map((c) => (isAtom(c) ? rewriteAtoms(c, functions) : c));
    } else if (isAtom(child)) {
      fields[key] = rewriteAtoms(child, functions);
    }
  }
  if (atom instanceof ArithmeticOperatorAtom && ['<', '<=', '>', '>='].includes(atom.operator)) {
    return new DateAwareComparison(atom);
  }
  return atom;
}

function isAtom(x: unknown): x is Atom {
  return typeof x === 'object' && x !== null && typeof (x as Atom).eval === 'function';
}

const dateTypes = new Set(['date', 'dateTime', 'instant']);

/** `<`, `<=`, `>`, `>=` with FHIRPath date semantics (see dates.ts); other operands go to medplum. */
class DateAwareComparison implements Atom {
  constructor(private readonly inner: ArithmeticOperatorAtom) {}

  eval(context: AtomContext, input: TypedValue[]): TypedValue[] {
    const left = this.inner.left.eval(context, input);
    const right = this.inner.right.eval(context, input);
    if (left.length === 1 && right.length === 1 && (dateTypes.has(left[0].type) || dateTypes.has(right[0].type))) {
      const a = left[0].value?.valueOf();
      const b = right[0].value?.valueOf();
      if (typeof a === 'string' && typeof b === 'string') {
        const order = compareDates(a, b);
        if (order === undefined) return [];
        const op = this.inner.operator;
        const value = op === '<' ? order < 0 : op === '<=' ? order <= 0 : op === '>' ? order > 0 : order >= 0;
        return [{ type: 'boolean', value }];
      }
    }
    return this.inner.eval(context, input);
  }

  toString(): string {
    return this.inner.toString();
  }
}

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
 * canonical, uri or url anywhere, including other contained resources), or itself refers to its
 * container with '#'.
 */
function containedAreReferenced(container: Record<string, unknown>, resource: Record<string, unknown> | undefined): boolean {
  const contained = asArray(container.contained);
  if (contained.length === 0) return true;
  const localRefs = new Set<string>();
  collectLocalReferences(resource ?? container, localRefs);
  return contained.every((c) => {
    if (c === null || typeof c !== 'object') return true;
    const id = (c as Record<string, unknown>).id;
    if (typeof id === 'string' && localRefs.has('#' + id)) return true;
    const own = new Set<string>();
    collectLocalReferences(c as Record<string, unknown>, own);
    return own.has('#');
  });
}

function collectLocalReferences(node: unknown, out: Set<string>): void {
  if (typeof node === 'string') {
    if (node.startsWith('#')) out.add(node);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) collectLocalReferences(item, out);
    return;
  }
  for (const key in node) collectLocalReferences((node as Record<string, unknown>)[key], out);
}

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
import { MEMBER_OF, memberOfCheck } from './member-of.js';
import type { Terminology } from './terminology.js';
import { invariantStrategies, nativeExpressions, nativeRules, ruleInvariants } from './native-invariants.js';

export { invariantStrategies, nativeExpressions } from './native-invariants.js';

/**
 * Error-level invariants (ElementDefinition.constraint with severity error,
 * http://hl7.org/fhir/R4/conformance-rules.html#constraints), evaluated with @medplum/core's FHIRPath
 * engine. Each expression is parsed once. An invariant fails when it evaluates to false; an empty
 * result (unknown, e.g. comparing dates of different precision) is not a failure. A constraint whose
 * expression the engine cannot evaluate is reported as a warning, never passed silently.
 */

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

export class InvariantCompiler {
  private readonly parsed = new Map<string, { atom: FhirPathAtom; unsupported: string[] } | { error: string }>();

  /** With a terminology, a constraint that is only `memberOf('…')` is checked against its expansion (member-of.ts). */
  constructor(private readonly terminology?: Terminology) {}

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
    if (strategy?.how === 'rule' && nativeExpressions[key] === constraint.expression) return ruleInvariants[key];
    const native = strategy?.how === 'native' && nativeExpressions[key] === constraint.expression ? nativeRules[key] : undefined;
    if (native) {
      return (value, path, ctx) => {
        if (value !== null && typeof value === 'object' && !native(value as Record<string, unknown>, ctx)) {
          ctx.issues.error('invariant', path, message, key);
        }
      };
    }
    const memberOf = this.terminology ? MEMBER_OF.exec(constraint.expression) : null;
    if (memberOf && this.terminology) return memberOfCheck(memberOf[1], key, human, this.terminology);
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
      } catch {
        // the engine's own message (often a TypeError from inside it) says nothing a client can act on
        ctx.issues.warning('processing', path, `Constraint ${key} (${human}) could not be evaluated here`, key);
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


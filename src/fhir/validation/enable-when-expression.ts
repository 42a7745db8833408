import { type Atom, type AtomContext, crawlTypedValue, evalFhirPathTyped, type FhirPathAtom, FunctionAtom, parseFhirPath, type TypedValue } from '@medplum/core';
import type { Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';

/**
 * SDC's enableWhenExpression (http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression):
 * a FHIRPath expression on a Questionnaire item that says whether the item is enabled. It replaces
 * enableWhen for that item. The HL7 validator's EnableWhenEvaluator also reads the Finnish PHR
 * extension, which carries the same expression as a valueString.
 */
const SDC_ENABLE_WHEN_EXPRESSION = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression';
const KANTA_ENABLE_WHEN_EXPRESSION = 'http://phr.kanta.fi/StructureDefinition/fiphr-ext-questionnaire-enablewhen';
/** A named Expression whose result later expressions read as %name (R4 core extension, used by SDC). */
const VARIABLE = 'http://hl7.org/fhir/StructureDefinition/variable';

/** Evaluated: whether the item is enabled. Not evaluated: why not (the item then counts as enabled). */
export type ExpressionOutcome = { enabled: boolean } | { uncheckable: string };

type Extension = { url?: string; valueString?: unknown; valueExpression?: { name?: unknown; language?: unknown; expression?: unknown } };

/** The item's enableWhenExpression, if it has one (a `text/fhirpath` Expression or the Kanta string). */
export function enableWhenExpressionOf(qItem: QuestionnaireItem): string | { unsupported: string } | undefined {
  for (const ext of (qItem.extension ?? []) as Extension[]) {
    if (ext?.url === KANTA_ENABLE_WHEN_EXPRESSION && typeof ext.valueString === 'string') return ext.valueString;
    if (ext?.url !== SDC_ENABLE_WHEN_EXPRESSION) continue;
    const expression = ext.valueExpression?.expression;
    const language = ext.valueExpression?.language;
    if (typeof expression !== 'string') return { unsupported: 'it has no expression' };
    // The extension's value is an Expression; SDC also allows CQL, which Stepwise cannot evaluate.
    if (language !== undefined && language !== 'text/fhirpath') return { unsupported: `its language is ${String(language)}, not text/fhirpath` };
    return expression;
  }
  return undefined;
}

/**
 * Evaluates an enableWhenExpression as SDC defines it (expressions.html): the QuestionnaireResponse is
 * both the input and %resource, %context is the response item the Questionnaire item is about (the
 * response itself when the item is absent), %questionnaire and %qitem are the Questionnaire and its
 * item, and the `variable`s of the Questionnaire, of the item's ancestors and of the item are in scope
 * (outer first, each seeing those before it). An empty result is false (SDC); a result that is not
 * one boolean, an expression that does not parse, fails or uses a function the engine cannot
 * evaluate is not evaluated: the caller warns.
 */
export function evaluateEnableWhenExpression(
  expression: string,
  response: unknown,
  responseItem: unknown,
  questionnaire: Questionnaire,
  qItem: QuestionnaireItem,
): ExpressionOutcome {
  const parsed = parse(expression);
  if ('error' in parsed) return { uncheckable: parsed.error };
  const qr: TypedValue = { type: 'QuestionnaireResponse', value: response };
  const variables: Record<string, TypedValue> = {
    '%resource': qr,
    '%rootResource': qr,
    '%context': responseItem === undefined ? qr : { type: 'QuestionnaireResponseItem', value: responseItem },
    '%questionnaire': { type: 'Questionnaire', value: questionnaire },
    '%qitem': { type: 'QuestionnaireItem', value: qItem },
  };
  const unset: string[] = [];
  for (const holder of [questionnaire, ...ancestorsOf(questionnaire.item ?? [], qItem), qItem]) {
    addVariables(holder, qr, variables, unset);
  }
  let result: TypedValue[];
  try {
    result = evalFhirPathTyped(parsed.atom, [qr], variables);
  } catch (err) {
    const also = unset.length > 0 ? `; ${unset.join('; ')}` : '';
    return { uncheckable: `it failed (${err instanceof Error ? err.message : String(err)})${also}` };
  }
  if (result.length === 0) return { enabled: false };
  if (result.length === 1 && typeof result[0].value === 'boolean') return { enabled: result[0].value };
  return { uncheckable: 'it did not return a boolean' };
}

/** The items that hold `target`, outermost first (empty for a top-level item). */
function ancestorsOf(items: QuestionnaireItem[], target: QuestionnaireItem): QuestionnaireItem[] {
  for (const item of items) {
    if (item === target) return [];
    const below = ancestorsOf(item.item ?? [], target);
    if (below.length > 0 || (item.item ?? []).includes(target)) return [item, ...below];
  }
  return [];
}

/**
 * Evaluates the `variable` extensions of one Questionnaire or item into `variables`, in order. A
 * variable that cannot be evaluated, or whose value is not exactly one item (medplum's engine holds
 * a variable as one value), is left undefined, and why is kept: an expression that uses it fails.
 */
function addVariables(holder: { extension?: unknown[] }, qr: TypedValue, variables: Record<string, TypedValue>, unset: string[]): void {
  for (const ext of (holder.extension ?? []) as Extension[]) {
    if (ext?.url !== VARIABLE) continue;
    const { name, language, expression } = ext.valueExpression ?? {};
    if (typeof name !== 'string' || typeof expression !== 'string') continue;
    delete variables[`%${name}`]; // an inner declaration shadows an outer one, even when it cannot be evaluated
    if (language !== 'text/fhirpath') {
      unset.push(`variable %${name} is not FHIRPath`);
      continue;
    }
    const parsed = parse(expression);
    if ('error' in parsed) {
      unset.push(`variable %${name}: ${parsed.error}`);
      continue;
    }
    try {
      const value = evalFhirPathTyped(parsed.atom, [qr], variables);
      if (value.length === 1) variables[`%${name}`] = value[0];
      else unset.push(`variable %${name} has ${value.length} values, and only single values are supported`);
    } catch (err) {
      unset.push(`variable %${name} failed (${err instanceof Error ? err.message : String(err)})`);
    }
  }
}

/**
 * Functions medplum parses but answers with a stub (an empty result or a constant). descendants(),
 * children() and repeat() are evaluated here instead, since enableWhenExpressions walk the response
 * with them (`%resource.repeat(item)`, `descendants().where(linkId = …)`).
 */
const stubFunctions = new Set(['htmlChecks', 'encode', 'decode', 'escape', 'unescape', 'trim', 'split', 'aggregate', 'memberOf']);

const parsedExpressions = new Map<string, { atom: FhirPathAtom } | { error: string }>();

function parse(expression: string): { atom: FhirPathAtom } | { error: string } {
  let entry = parsedExpressions.get(expression);
  if (!entry) {
    try {
      const stubs = new Set<string>();
      const atom = replaceTreeFunctions(parseFhirPath(expression), stubs) as FhirPathAtom;
      entry = stubs.size > 0 ? { error: `it uses ${[...stubs].join(', ')}(), which the FHIRPath engine does not implement` } : { atom };
    } catch (err) {
      entry = { error: `it does not parse (${err instanceof Error ? err.message : String(err)})` };
    }
    parsedExpressions.set(expression, entry);
  }
  return entry;
}

/** Swaps medplum's stub children(), descendants() and repeat() for working ones; collects other stubs used. */
function replaceTreeFunctions(atom: Atom, stubs: Set<string>): Atom {
  const fields = atom as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const child = fields[key];
    if (Array.isArray(child)) fields[key] = child.map((c) => (isAtom(c) ? replaceTreeFunctions(c, stubs) : c));
    else if (isAtom(child)) fields[key] = replaceTreeFunctions(child, stubs);
  }
  if (!(atom instanceof FunctionAtom)) return atom;
  if (atom.name === 'children' && atom.args.length === 0) return new TreeFunction('children', (_ctx, input) => input.flatMap(childrenOf));
  if (atom.name === 'descendants' && atom.args.length === 0) return new TreeFunction('descendants', (_ctx, input) => input.flatMap(descendantsOf));
  if (atom.name === 'repeat' && atom.args.length === 1) {
    const projection = atom.args[0];
    return new TreeFunction('repeat', (ctx, input) => repeat(ctx, input, projection));
  }
  if (stubFunctions.has(atom.name)) stubs.add(atom.name);
  return atom;
}

function isAtom(x: unknown): x is Atom {
  return typeof x === 'object' && x !== null && typeof (x as Atom).eval === 'function';
}

class TreeFunction implements Atom {
  constructor(
    private readonly name: string,
    private readonly impl: (context: AtomContext, input: TypedValue[]) => TypedValue[],
  ) {}

  eval(context: AtomContext, input: TypedValue[]): TypedValue[] {
    return this.impl(context, input);
  }

  toString(): string {
    return `${this.name}()`;
  }
}

/** FHIRPath children(): every child element of each input, typed by the R4 schema. */
function childrenOf(value: TypedValue): TypedValue[] {
  return walk(value, false);
}

/** FHIRPath descendants(): children(), recursively (`repeat(children())`). */
function descendantsOf(value: TypedValue): TypedValue[] {
  return walk(value, true);
}

function walk(value: TypedValue, deep: boolean): TypedValue[] {
  if (value.value === null || typeof value.value !== 'object') return [];
  const found: TypedValue[] = [];
  const root = value.value;
  crawlTypedValue(value, {
    visitProperty: (parent, _key, _path, propertyValues) => {
      if (!deep && parent.value !== root) return;
      for (const v of propertyValues.flat()) if (v?.value !== undefined) found.push(v);
    },
  });
  return found;
}

/** FHIRPath repeat(projection): the projection applied again to its own results until nothing new appears. */
function repeat(context: AtomContext, input: TypedValue[], projection: Atom): TypedValue[] {
  const seen = new Set<unknown>();
  const out: TypedValue[] = [];
  let frontier = input;
  while (frontier.length > 0) {
    const next: TypedValue[] = [];
    for (const item of frontier) {
      for (const v of projection.eval({ parent: context, variables: { $this: item } }, [item])) {
        // objects are new when not seen before; primitives are kept as they come (FHIRPath compares by identity)
        if (typeof v.value === 'object' && v.value !== null) {
          if (seen.has(v.value)) continue;
          seen.add(v.value);
        }
        out.push(v);
        if (typeof v.value === 'object' && v.value !== null) next.push(v);
      }
    }
    frontier = next;
  }
  return out;
}

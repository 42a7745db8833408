import type { Expression, Library, Measure } from '@medplum/fhirtypes';
import { libraryDefinitions } from './cql-library.js';
import type { ValidationContext, ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * A Measure's CQL criteria name definitions of its Library (measure.html: Measure.library holds
 * "the formal logic used by the measure"; a criteria Expression in `text/cql` names "the name of
 * a CQL expression in the referenced library", qualified by the library's name when there are
 * several), as the HL7 validator's MeasureValidator checks them: `Lib.Name` names definition Name
 * of the Library whose `name` is Lib, an unqualified name the definition of the Measure's library.
 * A definition is looked up in the Library's compiled ELM or CQL source (cql-library.ts).
 *
 * Only what can be known is judged: nothing is said when a library the criteria could name is not
 * held (information, as the HL7 validator's "could not be resolved") or its content cannot be read
 * (a warning: the HL7 validator refuses a Library without ELM, but its content may be elsewhere).
 * Criteria of populations, stratifiers and their components and supplemental data are checked;
 * the HL7 validator checks only stratifiers. `text/cql` that is a whole CQL expression rather than
 * a name (`Count([Device: "Ventilators"])`) is not read.
 */
export function measureCriteriaRule(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const measure = value as Measure;
    const canonicals = (measure.library ?? []).filter((l): l is string => typeof l === 'string');
    const held: Library[] = [];
    canonicals.forEach((url) => {
      const library = registry.getLibrary(url);
      if (library) held.push(library);
      else ctx.issues.add('information', 'not-found', path, `The Library ${url} could not be resolved, so expression validation may not be correct`);
    });
    const libraries = { held, complete: held.length === canonicals.length };
    if (held.length === 0) return;
    for (const { criteria, where } of criteriaOf(measure, path)) checkCriteria(criteria, where, libraries, ctx);
  };
}

interface Libraries {
  held: Library[];
  /** Every library the Measure names is held: a name none of them defines is defined nowhere. */
  complete: boolean;
}

function* criteriaOf(measure: Measure, path: string): Generator<{ criteria: Expression; where: string }> {
  for (const [g, group] of (measure.group ?? []).entries()) {
    for (const [p, population] of (group?.population ?? []).entries()) {
      if (population?.criteria) yield { criteria: population.criteria, where: `${path}.group[${g}].population[${p}].criteria` };
    }
    for (const [s, stratifier] of (group?.stratifier ?? []).entries()) {
      if (stratifier?.criteria) yield { criteria: stratifier.criteria, where: `${path}.group[${g}].stratifier[${s}].criteria` };
      for (const [c, component] of (stratifier?.component ?? []).entries()) {
        if (component?.criteria) yield { criteria: component.criteria, where: `${path}.group[${g}].stratifier[${s}].component[${c}].criteria` };
      }
    }
  }
  for (const [d, data] of (measure.supplementalData ?? []).entries()) {
    if (data?.criteria) yield { criteria: data.criteria, where: `${path}.supplementalData[${d}].criteria` };
  }
}

/** `text/cql-identifier` (R5's code, and the HL7 validator's `text/cql.identifier`): the expression is a name. */
const IDENTIFIER_LANGUAGES = ['text/cql-identifier', 'text/cql.identifier'];

function checkCriteria(criteria: Expression, where: string, libraries: Libraries, ctx: ValidationContext): void {
  const language = criteria.language as string | undefined;
  if (typeof criteria.expression !== 'string' || (language !== 'text/cql' && !IDENTIFIER_LANGUAGES.includes(language ?? ''))) return;
  const reference = parseReference(criteria.expression, language === 'text/cql');
  if (!reference) return;
  let candidates = libraries.held;
  if (reference.library !== undefined) {
    candidates = libraries.held.filter((l) => l.name === reference.library);
    if (candidates.length === 0) {
      // In text/cql, `Patient.gender` may be a path on a definition rather than a library's name.
      if (libraries.complete && language !== 'text/cql') ctx.issues.error('not-found', where, `No matching Library found for the namespace ${reference.library}`);
      return;
    }
    if (candidates.length > 1) {
      ctx.issues.error('business-rule', where, `Multiple matching libraries found for the namespace ${reference.library}`);
      return;
    }
  }
  const unread = candidates.map((l) => ({ library: l, definitions: libraryDefinitions(l) })).filter(({ definitions }) => !definitions.names);
  if (candidates.some((l) => libraryDefinitions(l).names?.has(reference.name))) return;
  for (const { library, definitions } of unread) {
    const why = definitions.problem ? `its content could not be read (${definitions.problem})` : 'it holds no ELM or CQL text inline';
    ctx.issues.warning('not-supported', where, `The expression ${reference.name} has not been checked against the library ${library.url}: ${why}`);
  }
  if (unread.length > 0 || (reference.library === undefined && !libraries.complete)) return;
  const named = reference.library !== undefined ? candidates[0].url : candidates.map((l) => l.url).join(', ');
  ctx.issues.error('not-found', where, `The function ${reference.name} does not exist in the library ${named}`);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The definition an expression names, with the library qualifier if it has one: `Name`,
 * `"Quoted Name"`, `Lib.Name`, `Lib."Quoted Name"`, `"Lib"."Name"`. As in the HL7 validator, a
 * name may be written unquoted with spaces (`Initial Population`). In `text/cql`, an expression
 * with brackets, operators or string literals is logic, not a name: undefined.
 */
export function parseReference(expression: string, mayBeLogic: boolean): { library?: string; name: string } | undefined {
  const text = expression.trim();
  if (!text) return undefined;
  const first = leadingPart(text);
  if (first && text[first.end] === '.') {
    const rest = leadingPart(text.slice(first.end + 1));
    const name = rest && rest.end === text.length - first.end - 1 ? rest.value : text.slice(first.end + 1).trim();
    if (!name || (mayBeLogic && !rest?.quoted && /[()[\]{}'"`<>=!~+*/^:;,|]/.test(name))) return undefined;
    return { library: first.value, name };
  }
  if (first?.quoted && first.end === text.length) return { name: first.value };
  if (mayBeLogic && /[()[\]{}'"`<>=!~+*/^:;,|.]/.test(text)) return undefined;
  return { name: text };
}

/** A leading identifier or quoted identifier and where it ends. */
function leadingPart(text: string): { value: string; end: number; quoted: boolean } | undefined {
  if (text[0] === '"' || text[0] === '`') {
    const close = text.indexOf(text[0], 1);
    return close > 0 ? { value: text.slice(1, close), end: close + 1, quoted: true } : undefined;
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text);
  return m && IDENTIFIER.test(m[0]) ? { value: m[0], end: m[0].length, quoted: false } : undefined;
}

/**
 * The syntax of SNOMED CT Expression Constraint Language (ECL 2.x, http://snomed.org/ecl; the
 * normative ABNF and the ANTLR grammar are in github.com/IHTSDO/snomed-expression-constraint-language,
 * syntax/). A hand-written recursive-descent reader that only says whether an expression parses and,
 * if not, where it stops.
 *
 * It is meant to refuse only what the grammar refuses, so where the grammar is fussy about things a
 * server reads anyway it is lenient: keywords need only end at a non-letter (the grammar wants white
 * space after AND, OR and MINUS), a term between pipes may hold any character but a pipe, numbers may
 * have leading zeros, and the filters in `{{ … }}` are only checked to be closed and not empty.
 * The long syntax's keywords (descendantOf, memberOf, any, reverseOf, `NOT =`, `<>`, `[1 to many]`)
 * are accepted too. An SCTID is 6 to 18 digits, not starting with 0 (sctId in the ABNF); its Verhoeff
 * check digit is not syntax, and whether a concept exists is a terminology server's question.
 */
export function eclSyntaxProblem(text: string): string | undefined {
  try {
    new EclReader(text).readWhole();
    return undefined;
  } catch (e) {
    if (e instanceof EclSyntaxError) return `${e.message} at character ${e.position + 1}`;
    // Too much backtracking, or brackets nested deeper than the stack: not judged rather than refused.
    if (e instanceof EclTooComplex || e instanceof RangeError) return undefined;
    throw e;
  }
}

/** Backtracking over brackets in refinements is bounded: past the budget the text is not judged. */
class EclTooComplex extends Error {}

class EclSyntaxError extends Error {
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(message);
  }
}

type Junction = 'and' | 'or' | 'minus';

const CONSTRAINT_OPERATORS = ['<<!', '<<', '<!', '<', '>>!', '>>', '>!', '>', '!!>', '!!<'];
/** The long syntax's constraint operators, each followed by white space (abnf-long.txt). */
const LONG_CONSTRAINT_OPERATORS = [
  'childOrSelfOf', 'childOf', 'descendantOrSelfOf', 'descendantOf', 'parentOrSelfOf', 'parentOf',
  'ancestorOrSelfOf', 'ancestorOf', 'top', 'bottom',
];
const COMPARISON_OPERATORS = ['!=', '<>', '<=', '>=', '=', '<', '>'];
const EQUALITY_OPERATORS = new Set(['=', '!=', '<>', 'NOT =']);
const WORD_CHAR = /[A-Za-z0-9_#-]/;

class EclReader {
  private pos = 0;
  private budget: number;

  constructor(private readonly text: string) {
    this.budget = 50 * (text.length + 10);
  }

  readWhole(): void {
    this.expressionConstraint();
    this.ws();
    if (this.pos < this.text.length) this.fail(`unexpected '${this.excerpt()}'`);
  }

  /** expressionConstraint: a refined, compound or dotted constraint, or a single one. */
  private expressionConstraint(): void {
    this.ws();
    this.subExpressionConstraint();
    this.ws();
    if (this.at(':')) {
      this.pos++;
      this.refinement();
      return;
    }
    if (this.at('.') && !this.at('..')) {
      while (this.at('.')) {
        this.pos++;
        this.ws();
        this.subExpressionConstraint();
        this.ws();
      }
      return;
    }
    const first = this.junction(true);
    if (!first) return;
    for (;;) {
      this.ws();
      this.subExpressionConstraint();
      this.ws();
      const start = this.pos;
      const next = this.junction(false);
      if (!next) return;
      // "AND", "OR" and "MINUS" may not be mixed without brackets, and MINUS takes two operands
      // (compoundExpressionConstraint in the ABNF).
      if (next !== first || first === 'minus') {
        this.pos = start;
        this.fail(first === next ? 'MINUS takes two operands; use brackets' : `${next.toUpperCase()} after ${first.toUpperCase()} needs brackets`);
      }
      this.junction(true);
    }
  }

  /** subExpressionConstraint: [constraintOperator] [memberOf] (focus | "(" expression ")") filters. */
  private subExpressionConstraint(): void {
    if (--this.budget < 0) throw new EclTooComplex();
    if (this.constraintOperator()) this.ws();
    if (this.memberOf()) this.ws();
    this.focus();
    for (;;) {
      const start = this.pos;
      this.ws();
      if (!this.at('{{')) {
        this.pos = start;
        return;
      }
      this.filterBlock();
    }
  }

  private constraintOperator(): boolean {
    const symbol = CONSTRAINT_OPERATORS.find((op) => this.at(op));
    if (symbol) {
      this.pos += symbol.length;
      return true;
    }
    return LONG_CONSTRAINT_OPERATORS.some((word) => this.longKeyword(word));
  }

  /** memberOf: "^" (or the long "memberOf") with an optional [field, …] list. */
  private memberOf(): boolean {
    if (this.at('^')) {
      this.pos++;
      // The draft grammar's refsetContainingAny is "^R"; accepted so as not to refuse it.
      if (/[Rr]/.test(this.char()) && !WORD_CHAR.test(this.char(1))) this.pos++;
    } else if (!this.keyword('memberOf')) {
      return false;
    }
    const start = this.pos;
    this.ws();
    if (!this.at('[')) {
      this.pos = start;
      return true;
    }
    this.pos++;
    this.ws();
    if (this.at('*')) this.pos++;
    else {
      this.fieldName();
      for (this.ws(); this.at(','); this.ws()) {
        this.pos++;
        this.ws();
        this.fieldName();
      }
    }
    this.ws();
    this.expect(']');
    return true;
  }

  private fieldName(): void {
    if (!this.readPattern(/[A-Za-z]+/y)) this.fail('expected a reference set field name');
  }

  /** eclFocusConcept or a bracketed expression constraint. */
  private focus(): void {
    const c = this.char();
    if (c === '(') {
      this.pos++;
      this.expressionConstraint();
      this.ws();
      this.expect(')');
    } else if (c === '*' || this.keyword('any')) {
      if (c === '*') this.pos++;
    } else if (/[0-9]/.test(c)) {
      this.sctId();
      this.term();
    } else if (c === '"' || /[A-Za-z]/.test(c)) {
      this.alternateIdentifier();
      this.term();
    } else {
      this.fail(this.pos < this.text.length ? `expected a concept, not '${this.excerpt()}'` : 'expected a concept');
    }
  }

  /** sctId: digitNonZero 5*17digit. */
  private sctId(): void {
    const start = this.pos;
    const digits = this.readPattern(/[0-9]+/y)!;
    if (digits.startsWith('0')) this.fail(`the concept id '${digits}' starts with 0`, start);
    if (digits.length < 6 || digits.length > 18) this.fail(`the concept id '${digits}' does not have 6 to 18 digits`, start);
  }

  /** altIdentifier: scheme#code, or "scheme#code" in quotes (ECL 2.1, e.g. LOINC#54486-6). */
  private alternateIdentifier(): void {
    const start = this.pos;
    const quoted = this.at('"');
    if (quoted) this.pos++;
    if (!this.readPattern(/[A-Za-z][A-Za-z0-9-]*/y) || !this.at('#')) {
      this.pos = start;
      this.fail(`expected a concept, not '${this.excerpt()}'`);
    }
    this.pos++;
    const code = quoted ? this.readPattern(/[^"\\]+/y) : this.readPattern(/[A-Za-z0-9._-]+/y);
    if (!code) this.fail('expected the code of an alternate identifier');
    if (quoted) this.expect('"');
  }

  /** The optional |term| after a concept. */
  private term(): void {
    const start = this.pos;
    this.ws();
    if (!this.at('|')) {
      this.pos = start;
      return;
    }
    const end = this.text.indexOf('|', this.pos + 1);
    if (end < 0) this.fail('the term has no closing |');
    if (!this.text.slice(this.pos + 1, end).trim()) this.fail('the term between | | is empty');
    this.pos = end + 1;
  }

  /**
   * A filter (description, concept or member filter, history supplement: "{{" … "}}"). Only its
   * brackets are checked: they close, and something is inside.
   */
  private filterBlock(): void {
    const open = this.pos;
    this.pos += 2;
    let depth = 1;
    let empty = true;
    while (depth > 0) {
      if (this.pos >= this.text.length) this.fail('the filter {{ is not closed', open);
      if (this.at('}}')) {
        if (depth === 1 && empty) this.fail('the filter {{ }} is empty');
        depth--;
        this.pos += 2;
        continue;
      }
      if (this.at('/*') || /\s/.test(this.char())) {
        this.ws();
        continue;
      }
      empty = false;
      if (this.at('{{')) {
        depth++;
        this.pos += 2;
      } else if (this.at('"')) this.quotedString();
      else if (this.at('|')) this.term();
      else this.pos++;
    }
  }

  /**
   * eclRefinement. At this level the grammar's two layers (a refinement of attribute sets, each a
   * conjunction or a disjunction) let AND, OR and commas mix freely; inside { } they may not.
   */
  private refinement(): void {
    for (;;) {
      this.ws();
      this.subRefinement();
      this.ws();
      if (!this.junction(true, false)) return;
    }
  }

  /** subRefinement: an attribute, an attribute group, or a bracketed refinement. */
  private subRefinement(): void {
    const start = this.pos;
    if (this.cardinality()) this.ws();
    if (this.at('{')) {
      this.attributeGroup();
      return;
    }
    if (this.at('(') && this.pos === start) {
      // "(" may open a bracketed refinement or an attribute whose name is bracketed (7.7 in the
      // specification's examples): try the attribute first.
      this.either(
        () => this.attribute(),
        () => {
          this.pos++;
          this.refinement();
          this.ws();
          this.expect(')');
        },
      );
      return;
    }
    this.attribute();
  }

  /** eclAttributeGroup: "{" eclAttributeSet "}" (its optional cardinality already read). */
  private attributeGroup(): void {
    this.expect('{');
    this.attributeSet();
    this.ws();
    this.expect('}');
  }

  /** eclAttributeSet: attributes joined by only one of AND (or comma) and OR. */
  private attributeSet(): void {
    let first: Junction | undefined;
    for (;;) {
      this.ws();
      this.subAttributeSet();
      this.ws();
      const start = this.pos;
      const next = this.junction(false, false);
      if (!next) return;
      if (first && next !== first) {
        this.pos = start;
        this.fail(`${next.toUpperCase()} after ${first.toUpperCase()} in an attribute group needs brackets`);
      }
      first = next;
      this.junction(true, false);
    }
  }

  private subAttributeSet(): void {
    if (!this.at('(')) {
      this.attribute();
      return;
    }
    this.either(
      () => this.attribute(),
      () => {
        this.pos++;
        this.attributeSet();
        this.ws();
        this.expect(')');
      },
    );
  }

  /** eclAttribute: [cardinality] [reverse flag] name comparison value. */
  private attribute(): void {
    if (this.cardinality()) this.ws();
    if (this.reverseFlag()) this.ws();
    this.subExpressionConstraint();
    this.ws();
    const operator = this.comparisonOperator();
    if (!operator) this.fail(this.pos < this.text.length ? `expected a comparison operator, not '${this.excerpt()}'` : 'expected a comparison operator');
    this.ws();
    if (this.at('#')) {
      this.pos++;
      if (!this.readPattern(/[-+]?[0-9]+(\.[0-9]+)?/y)) this.fail('expected a number after #');
      return;
    }
    if (!EQUALITY_OPERATORS.has(operator)) this.fail(`'${operator}' compares numbers: expected #`);
    this.attributeValue();
  }

  /** A concept constraint, a quoted string (or set of them), or true/false. */
  private attributeValue(): void {
    if (this.at('"')) {
      this.quotedString();
      this.term();
    } else if (this.searchTermKeyword()) {
      this.quotedString();
    } else if (this.at('(') && this.startsSearchTermSet()) {
      this.pos++;
      for (this.ws(); !this.at(')'); this.ws()) {
        this.searchTermKeyword();
        this.quotedString();
      }
      this.pos++;
    } else if (!this.keyword('true') && !this.keyword('false')) {
      this.subExpressionConstraint();
    }
  }

  /** match: or wild: before a quoted search term. */
  private searchTermKeyword(): boolean {
    const start = this.pos;
    if (this.keyword('match') || this.keyword('wild')) {
      this.ws();
      if (this.at(':')) {
        this.pos++;
        this.ws();
        return true;
      }
    }
    this.pos = start;
    return false;
  }

  private startsSearchTermSet(): boolean {
    const start = this.pos;
    this.pos++;
    this.ws();
    const result = this.at('"') || this.searchTermKeyword();
    this.pos = start;
    return result;
  }

  /** A string in double quotes, with \" and \\ (and \* in wild terms) escaped. */
  private quotedString(): void {
    const open = this.pos;
    this.expect('"');
    for (;;) {
      if (this.pos >= this.text.length) this.fail('the string is not closed', open);
      const c = this.char();
      if (c === '"') break;
      this.pos += c === '\\' ? 2 : 1;
    }
    this.pos++;
  }

  /** "[" min ".." max "]", or the long "[min to max]"; max may be * or many. */
  private cardinality(): boolean {
    if (!this.at('[')) return false;
    this.pos++;
    this.ws();
    if (!this.readPattern(/[0-9]+/y)) this.fail('expected the minimum of a cardinality');
    this.ws();
    if (this.at('..')) this.pos += 2;
    else if (!this.keyword('to')) this.fail("expected '..' in a cardinality");
    this.ws();
    if (!this.readPattern(/[0-9]+|\*/y) && !this.keyword('many')) this.fail('expected the maximum of a cardinality');
    this.ws();
    this.expect(']');
    return true;
  }

  /** reverseFlag: "R" (either case in the ANTLR grammar) or the long "reverseOf". */
  private reverseFlag(): boolean {
    // "R" may be followed directly by the attribute's id, but not by more of a word ("RXNORM#…").
    if (/[Rr]/.test(this.char()) && !/^.(?:[A-Za-z_#-]|[0-9]+[A-Za-z_#-])/.test(this.text.slice(this.pos))) {
      this.pos++;
      return true;
    }
    return this.keyword('reverseOf');
  }

  private comparisonOperator(): string | undefined {
    const symbol = COMPARISON_OPERATORS.find((op) => this.at(op));
    if (symbol) {
      this.pos += symbol.length;
      return symbol;
    }
    const start = this.pos;
    if (this.keyword('NOT')) {
      this.ws();
      if (this.at('=') && !this.at('==')) {
        this.pos++;
        return 'NOT =';
      }
    }
    this.pos = start;
    return undefined;
  }

  /** AND (or a comma), OR, MINUS: consumed only when `consume`; MINUS only where `minus` allows. */
  private junction(consume: boolean, minus = true): Junction | undefined {
    const start = this.pos;
    let found: Junction | undefined;
    if (this.at(',')) {
      this.pos++;
      found = 'and';
    } else if (this.keyword('AND')) found = 'and';
    else if (this.keyword('OR')) found = 'or';
    else if (minus && this.keyword('MINUS')) found = 'minus';
    if (!consume) this.pos = start;
    return found;
  }

  /** Tries `first`; if it fails, `second` from the same place, reporting whichever got further. */
  private either(first: () => void, second: () => void): void {
    const start = this.pos;
    try {
      first();
    } catch (e) {
      if (!(e instanceof EclSyntaxError)) throw e;
      this.pos = start;
      try {
        second();
      } catch (e2) {
        if (!(e2 instanceof EclSyntaxError)) throw e2;
        throw e2.position >= e.position ? e2 : e;
      }
    }
  }

  /** A keyword, in any case, that does not run on into a longer word. */
  private keyword(word: string): boolean {
    const end = this.pos + word.length;
    if (this.text.slice(this.pos, end).toLowerCase() !== word.toLowerCase()) return false;
    if (end < this.text.length && WORD_CHAR.test(this.text[end]!)) return false;
    this.pos = end;
    return true;
  }

  /** A long-syntax operator word, which the grammar follows with white space. */
  private longKeyword(word: string): boolean {
    const end = this.pos + word.length;
    if (this.text.slice(this.pos, end).toLowerCase() !== word.toLowerCase()) return false;
    if (end >= this.text.length || !/[\s/]/.test(this.text[end]!)) return false;
    this.pos = end;
    return true;
  }

  /** ws: spaces, tabs, line ends and /* comments *\/. */
  private ws(): void {
    for (;;) {
      const c = this.char();
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.pos++;
      else if (this.at('/*')) {
        const end = this.text.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('the comment is not closed');
        this.pos = end + 2;
      } else return;
    }
  }

  private readPattern(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos;
    const match = pattern.exec(this.text);
    if (!match || match.index !== this.pos || match[0] === '') return undefined;
    this.pos += match[0].length;
    return match[0];
  }

  private expect(token: string): void {
    if (!this.at(token)) this.fail(this.pos < this.text.length ? `expected '${token}', not '${this.excerpt()}'` : `expected '${token}'`);
    this.pos += token.length;
  }

  private at(token: string): boolean {
    return this.text.startsWith(token, this.pos);
  }

  private char(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }

  private excerpt(): string {
    const rest = this.text.slice(this.pos);
    return rest.length > 12 ? `${rest.slice(0, 12)}…` : rest;
  }

  private fail(message: string, position = this.pos): never {
    throw new EclSyntaxError(position, message);
  }
}


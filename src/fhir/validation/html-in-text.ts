import type { ValueCheck } from './context.js';

/**
 * HTML where a FHIR value is plain text. Only the narrative (`xhtml`) may hold markup
 * (http://hl7.org/fhir/R4/narrative.html); a `string` is text and a `markdown` is CommonMark, which a
 * renderer escapes (http://hl7.org/fhir/R4/datatypes.html#markdown), but an application that puts a
 * value into a page without escaping it runs whatever script it carries. The HL7 validator checks
 * both only when asked, with two options this validator takes too:
 *
 * - security checks (`-security-checks`): no primitive value except xhtml, markdown included, may
 *   contain text that looks like an HTML tag: "The string value contains text that looks like
 *   embedded HTML tags, which are not allowed for security reasons in this context".
 * - HTML in markdown (`-html-in-markdown warning|error`): "The markdown contains content that appears
 *   to be an embedded HTML tag starting at '…'".
 */

const SECURITY_MESSAGE = 'The string value contains text that looks like embedded HTML tags, which are not allowed for security reasons in this context';

/**
 * Whether text contains something that looks like an HTML start tag: `<`, a letter, letters, digits
 * or `_`, then `>` or whitespace and attributes up to a `>` that comes before any other `<`
 * (the HL7 validator's HTMLUtilities.containsHtmlTags). `3 < 5 > 2`, `<123>` and `</b>` are not tags.
 * Unlike the HL7 validator, which only looks at a tag that another `<` follows, the last tag in the
 * text counts too: `<img src=x onerror=alert(1)>` alone is the classic script injection.
 */
export function containsHtmlTags(text: string): boolean {
  let start = text.indexOf('<');
  while (start > -1) {
    const next = text.indexOf('<', start + 1);
    const end = text.indexOf('>', start + 1);
    if (end > -1 && (next === -1 || end < next) && looksLikeTag(text.slice(start + 1, end))) return true;
    start = next;
  }
  return false;
}

/** A tag name (a letter, then letters, digits or `_`), alone or followed by whitespace and attributes. */
const TAG_CONTENT = /^\p{L}[\p{L}\p{Nd}_]*(?:\s|$)/u;

function looksLikeTag(content: string): boolean {
  return TAG_CONTENT.test(content);
}

/**
 * Where markdown holds what a CommonMark renderer would pass through as HTML: an unescaped `<` or
 * `</` before an ASCII tag name and whitespace or `>`, or the start of a comment, declaration or
 * processing instruction (`<!`, `<?`), as the HL7 validator's MarkDownProcessor.preProcess finds
 * them. Returns the index of the `<`, or -1.
 */
export function markdownHtmlStart(markdown: string): number {
  const tag = /(?<!\\)<(?:\/?[A-Za-z][A-Za-z0-9-]*[\s>]|[!?])/.exec(markdown);
  return tag ? tag.index : -1;
}

/** The security check for a primitive value of any type but xhtml, when ValidateOptions.securityChecks asks for it. */
export const securityCheck: ValueCheck = (value, path, ctx) => {
  if (!ctx.securityChecks || typeof value !== 'string') return;
  if (containsHtmlTags(value)) ctx.issues.error('value', path, SECURITY_MESSAGE);
};

/** HTML in a markdown value, reported as ValidateOptions.htmlInMarkdown asks. */
export const markdownHtmlCheck: ValueCheck = (value, path, ctx) => {
  if (!ctx.htmlInMarkdown || typeof value !== 'string') return;
  const at = markdownHtmlStart(value);
  if (at < 0) return;
  ctx.issues.add(
    ctx.htmlInMarkdown,
    'value',
    path,
    `The markdown contains content that appears to be an embedded HTML tag starting at '${value.slice(at, at + 2)}'. This will (or SHOULD) be escaped by the presentation layer. The content should be checked to confirm that this is the desired behaviour`,
  );
};

import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { IssueList } from './issues.js';

export interface ReadJsonOptions {
  /**
   * Comments (`// …` to the end of the line, `/* … *\/`) outside strings are skipped, as the HL7
   * validator's `allow-comments` reads JSON; without it a document with comments is not JSON.
   */
  allowComments?: boolean;
}

/**
 * Reads FHIR JSON text (http://hl7.org/fhir/R4/json.html). Besides JSON syntax errors it reports
 * duplicate property names, which JSON.parse silently resolves to the last value but FHIR JSON
 * forbids (the reference validator rejects them). Decimal precision is lost as with JSON.parse.
 */
export function readFhirJson(text: string, opts: ReadJsonOptions = {}): { resource?: unknown; issues: OperationOutcomeIssue[] } {
  const issues = new IssueList();
  let resource: unknown;
  if (opts.allowComments) text = withoutJsonComments(text);
  try {
    resource = JSON.parse(text);
  } catch (err) {
    // JSON has no comments (RFC 8259): when they are all that is wrong, say so
    const why = !opts.allowComments && onlyCommentsWrong(text) ? 'Comments are not allowed in JSON' : err instanceof Error ? err.message : String(err);
    issues.error('structure', '(document)', `The document is not valid JSON: ${why}`);
    return { issues: issues.items };
  }
  const rootType = (resource as { resourceType?: unknown } | null)?.resourceType;
  for (const duplicate of findDuplicateKeys(text, typeof rootType === 'string' ? rootType : '')) {
    issues.error('structure', duplicate, `Property ${duplicate} appears more than once in the same JSON object`);
  }
  return { resource, issues: issues.items };
}

/**
 * The text with each comment outside a string replaced by spaces (line breaks kept, so positions in
 * error messages still point at the same line and column). An unclosed block comment runs to the end.
 */
export function withoutJsonComments(text: string): string {
  if (!text.includes('/')) return text;
  let out = '';
  let copied = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      i = endOfString(text, i);
    } else if (ch === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      const line = text[i + 1] === '/';
      let end = line ? text.indexOf('\n', i) : text.indexOf('*/', i + 2);
      end = end === -1 ? text.length : line ? end : end + 2;
      out += text.slice(copied, i) + text.slice(i, end).replace(/[^\r\n]/g, ' ');
      copied = end;
      i = end - 1;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function onlyCommentsWrong(text: string): boolean {
  const stripped = withoutJsonComments(text);
  if (stripped === text) return false;
  try {
    JSON.parse(stripped);
    return true;
  } catch {
    return false;
  }
}

/** The index of the quote that closes the string opening at `start` (or the end of the text). */
function endOfString(text: string, start: number): number {
  let j = start + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return j;
}

/** FHIRPath-like locations of duplicate keys in syntactically valid JSON text. */
export function findDuplicateKeys(text: string, root: string): string[] {
  const found: string[] = [];
  // Each open container: its keys (objects) or next index (arrays), and its path.
  const stack: Array<{ keys?: Set<string>; index: number; path: string }> = [];
  let pendingKey: string | undefined;
  let expectKey = false;
  const childPath = (): string => {
    const top = stack.at(-1);
    if (!top) return root;
    if (top.keys) return `${top.path}.${pendingKey ?? ''}`;
    return `${top.path}[${top.index}]`;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const str = JSON.parse(text.slice(i, j + 1)) as string;
      i = j;
      const top = stack.at(-1);
      if (expectKey && top?.keys) {
        if (top.keys.has(str)) found.push(`${top.path}.${str}`);
        top.keys.add(str);
        pendingKey = str;
        expectKey = false;
      }
    } else if (ch === '{' || ch === '[') {
      const path = childPath();
      stack.push(ch === '{' ? { keys: new Set(), index: 0, path } : { index: 0, path });
      expectKey = ch === '{';
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      const top = stack.at(-1);
      if (top?.keys) expectKey = true;
      else if (top) top.index++;
    }
  }
  return found;
}

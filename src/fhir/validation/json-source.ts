import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { IssueList } from './issues.js';

/**
 * Reads FHIR JSON text (http://hl7.org/fhir/R4/json.html). Besides JSON syntax errors it reports
 * duplicate property names, which JSON.parse silently resolves to the last value but FHIR JSON
 * forbids (the reference validator rejects them). Decimal precision is lost as with JSON.parse.
 */
export function readFhirJson(text: string): { resource?: unknown; issues: OperationOutcomeIssue[] } {
  const issues = new IssueList();
  let resource: unknown;
  try {
    resource = JSON.parse(text);
  } catch (err) {
    issues.error('structure', '(document)', `The document is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    return { issues: issues.items };
  }
  const rootType = (resource as { resourceType?: unknown } | null)?.resourceType;
  for (const duplicate of findDuplicateKeys(text, typeof rootType === 'string' ? rootType : '')) {
    issues.error('structure', duplicate, `Property ${duplicate} appears more than once in the same JSON object`);
  }
  return { resource, issues: issues.items };
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

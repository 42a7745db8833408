import { FhirError, FhirErrorCode } from '../errors.js';
import { findDuplicateKeys } from './validation/json-source.js';

/**
 * The closing quote of every object member name: a `"` after an even number of backslashes (so
 * not an escaped one), then optional JSON whitespace and `:`. Every member name of the text
 * matches once; a string value that begins with `:` matches too, so the count is never less than
 * the number of members, and is equal to it unless such a value is present.
 */
const MEMBER_NAME_END = /(?<!\\)(?:\\\\)*"[ \t\n\r]*:/g;

/** How many object members the JSON text writes, or more (see MEMBER_NAME_END). */
export function membersWritten(text: string): number {
  let count = 0;
  MEMBER_NAME_END.lastIndex = 0;
  while (MEMBER_NAME_END.exec(text)) count++;
  return count;
}

/**
 * Refuses JSON whose objects name a member twice. RFC 8259 §4 leaves the meaning of duplicate
 * names open ("the names within an object SHOULD be unique"); JSON.parse keeps the last, so
 * `{"resourceType":"Observation","resourceType":"Patient"}` would be stored as a Patient. FHIR JSON
 * has one property per element (http://hl7.org/fhir/R4/json.html), and the reference validator
 * refuses duplicates; so does Stepwise, with the path of each.
 *
 * `parsedMembers` is the number of members of every object of the parsed value (counted by
 * checkInputLimits as it walks it). JSON.parse cannot report duplicates, but they are exactly what
 * makes the parsed value have fewer members than the text writes, so one native regular-expression
 * pass decides (about a third of the parse's time on 5 MB); only when the counts differ is the text
 * tokenized to find where.
 */
export function refuseDuplicateKeys(text: string, parsed: unknown, parsedMembers: number): void {
  if (membersWritten(text) === parsedMembers) return;
  const rootType = (parsed as { resourceType?: unknown } | null)?.resourceType;
  const root = typeof rootType === 'string' ? rootType : '';
  const duplicates = findDuplicateKeys(text, root);
  if (duplicates.length === 0) return;
  throw new FhirError(
    FhirErrorCode.INVALID,
    duplicates.map((path) => {
      const expression = expressionOf(path, root);
      return { code: 'structure', expression, message: `The JSON object names ${expression} more than once; FHIR JSON has one property per element (RFC 8259 §4, FHIR R4 json.html)` };
    }),
  );
}

/**
 * The path as an OperationOutcome expression. A second `resourceType` at the root makes the
 * root's type itself uncertain, so it is just `resourceType`; a path without a root type (a JSON
 * Patch, an array) starts at its first name or index.
 */
function expressionOf(path: string, root: string): string {
  if (root && path === `${root}.resourceType`) return 'resourceType';
  return path.replace(/^\./, '');
}

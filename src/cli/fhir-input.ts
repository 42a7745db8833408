import type { Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import { withoutJsonComments } from '../fhir/validation/json-source.js';
import { parseFhirJson, parseFhirXml } from '../fhir/xml/index.js';

/**
 * A file given to the command line as a FHIR resource: XML starts with `<` (declaration, comment or
 * root), JSON with `{`, after an optional byte order mark; anything else is neither. With
 * `allowComments` (the HL7 validator's allow-comments), `//` and `/* *\/` comments outside strings are
 * skipped before JSON is read.
 */
export function parseFhirInput(text: string, opts: { allowComments?: boolean } = {}): Resource {
  const first = /^\uFEFF?\s*(\S)/.exec(text)?.[1];
  if (first === '<') return parseFhirXml(text);
  const unmarked = text.replace(/^\uFEFF/, '');
  const json = opts.allowComments ? withoutJsonComments(unmarked) : unmarked;
  if (/^\s*\{/.test(json)) return parseFhirJson(json);
  throw new FhirError(FhirErrorCode.INVALID, 'Input is neither FHIR XML nor FHIR JSON');
}

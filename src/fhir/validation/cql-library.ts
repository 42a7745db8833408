import type { Attachment, Library } from '@medplum/fhirtypes';
import { XMLParser } from 'fast-xml-parser';

/**
 * The names a Library's logic defines, read without translating CQL: what a Measure's criteria may
 * name (measure-criteria.ts). The HL7 validator reads them from the compiled ELM
 * (`application/elm+xml`, the `name` of each `library/statements/def`, urn:hl7-org:elm:r1); here
 * ELM in JSON (`application/elm+json`, library.statements.def[].name) and, without ELM, the CQL
 * text itself (`text/cql`) are read too, since a Library may carry only its source.
 *
 * `names` is undefined when the Library has no logic content to read (or none of it inline);
 * `problem` says why content that is there could not be read.
 */
export interface LibraryDefinitions {
  names?: ReadonlySet<string>;
  problem?: string;
}

const ELM_NAMESPACE = 'urn:hl7-org:elm:r1';
const read = new WeakMap<Library, LibraryDefinitions>();

export function libraryDefinitions(library: Library): LibraryDefinitions {
  let found = read.get(library);
  if (!found) {
    found = readDefinitions(library);
    read.set(library, found);
  }
  return found;
}

function readDefinitions(library: Library): LibraryDefinitions {
  const problems: string[] = [];
  // Compiled ELM first (what the HL7 validator reads), then the CQL source.
  for (const [type, reader] of [
    ['application/elm+xml', elmXmlNames],
    ['application/elm+json', elmJsonNames],
    ['text/cql', cqlNames],
  ] as const) {
    for (const content of library.content ?? []) {
      if (mediaType(content) !== type || typeof content.data !== 'string') continue;
      try {
        return { names: reader(Buffer.from(content.data, 'base64').toString('utf8')) };
      } catch (err) {
        problems.push(`${type}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  return problems.length ? { problem: problems.join('; ') } : {};
}

/** The media type of an attachment without parameters (`text/cql; charset=utf-8` is `text/cql`). */
function mediaType(content: Attachment): string | undefined {
  return content?.contentType?.split(';')[0].trim().toLowerCase();
}

function elmXmlNames(text: string): Set<string> {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => localName(name) === 'def' });
  const doc = parser.parse(text, true) as Record<string, unknown>;
  const rootName = Object.keys(doc).find((k) => localName(k) === 'library');
  const library = rootName ? (doc[rootName] as Record<string, unknown>) : undefined;
  if (!rootName || !library || typeof library !== 'object') throw new Error('the document is not an ELM library');
  const prefix = rootName.includes(':') ? rootName.slice(0, rootName.indexOf(':')) : undefined;
  if (library[prefix ? `@xmlns:${prefix}` : '@xmlns'] !== ELM_NAMESPACE) throw new Error(`the library is not in the ELM namespace ${ELM_NAMESPACE}`);
  const child = (parent: unknown, name: string): unknown => (parent && typeof parent === 'object' ? (parent as Record<string, unknown>)[prefix ? `${prefix}:${name}` : name] : undefined);
  const defs = (child(child(library, 'statements'), 'def') ?? []) as { '@name'?: unknown }[];
  return new Set(defs.map((d) => d?.['@name']).filter((n): n is string => typeof n === 'string'));
}

const localName = (name: string): string => name.slice(name.indexOf(':') + 1);

function elmJsonNames(text: string): Set<string> {
  const library = (JSON.parse(text) as { library?: { statements?: { def?: { name?: unknown }[] } } }).library;
  if (!library || typeof library !== 'object') throw new Error('the document is not an ELM library');
  const defs = library.statements?.def ?? [];
  return new Set(defs.map((d) => d?.name).filter((n): n is string => typeof n === 'string'));
}

/**
 * The names of a CQL library's definitions, from its text (CQL 1.5 grammar, cql.g4):
 * `define [public|private] name:` (expressionDefinition), `define [public|private] [fluent]
 * function name(…)` (functionDefinition), and `context Name`, which the translator also turns
 * into a definition of that name. A name is an identifier, a "quoted identifier" or a
 * `delimited identifier` with the grammar's escapes. Comments and string literals are skipped, so
 * `define` inside them counts for nothing.
 */
export function cqlNames(text: string): Set<string> {
  const names = new Set<string>();
  const tokens = cqlTokens(text);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'word') continue;
    if (t.text === 'context') {
      const next = tokens[i + 1];
      if (next && next.kind !== 'other') names.add(next.text);
      continue;
    }
    if (t.text !== 'define') continue;
    let j = i + 1;
    if (tokens[j]?.kind === 'word' && (tokens[j].text === 'public' || tokens[j].text === 'private')) j++;
    if (tokens[j]?.kind === 'word' && tokens[j].text === 'fluent') j++;
    if (tokens[j]?.kind === 'word' && tokens[j].text === 'function' && tokens[j + 1] && tokens[j + 1].kind !== 'other') j++;
    const name = tokens[j];
    if (name && name.kind !== 'other') names.add(name.text);
  }
  return names;
}

interface Token {
  /** `word`: a plain identifier or keyword; `quoted`: a "quoted" or `delimited` identifier, unescaped; `other`: anything else. */
  kind: 'word' | 'quoted' | 'other';
  text: string;
}

function cqlTokens(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error('a comment is not closed');
      i = end + 2;
    } else if (c === '"' || c === '`' || c === "'") {
      const { value, next } = delimited(text, i);
      tokens.push({ kind: c === "'" ? 'other' : 'quoted', text: value });
      i = next;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z0-9_]+/.exec(text.slice(i, i + 256)) as RegExpExecArray;
      tokens.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    } else {
      tokens.push({ kind: 'other', text: c });
      i++;
    }
  }
  return tokens;
}

const ESCAPES: Record<string, string> = { '"': '"', "'": "'", '`': '`', '\\': '\\', '/': '/', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A string, quoted identifier or delimited identifier starting at `start`, with CQL's escapes (cql.g4 ESC). */
function delimited(text: string, start: number): { value: string; next: number } {
  const quote = text[start];
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === quote) return { value, next: i + 1 };
    if (c !== '\\') {
      value += c;
      continue;
    }
    const e = text[i + 1];
    if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      i += 5;
    } else {
      value += ESCAPES[e] ?? e;
      i += 1;
    }
  }
  throw new Error(`a ${quote === "'" ? 'string' : 'quoted identifier'} is not closed`);
}

import { FhirError, FhirErrorCode, badRequest } from '../errors.js';

/**
 * Bounds on the shape of a request body, the same for JSON and XML: a body within MAX_BODY_BYTES
 * can still be costly to process (a million given names, a nesting bomb, one 9 MB note). They are
 * checked once a body is parsed and before anything else reads it (http/body.ts), over the JSON
 * object form that both formats parse to, so both give the same answer at the same path.
 */
export interface InputLimits {
  /**
   * Deepest nesting: how many element names a path has below the root, array indexes not counted.
   * `Bundle.entry[3].resource.note[0].text` has depth 4.
   */
  maxDepth: number;
  /** Most items in any one array. Bundle.entry is also bounded by MAX_BUNDLE_ENTRIES, which is no more than this. */
  maxArrayItems: number;
  /** Longest string, in UTF-16 code units; `data` elements (base64Binary and SampledData) are bounded by the body size only. */
  maxStringLength: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxDepth: 64,
  maxArrayItems: 10_000,
  maxStringLength: 1024 * 1024,
};

/**
 * Attachment.data, Binary.data, Signature.data (base64Binary) and SampledData.data carry whole
 * documents or sample streams: a 5 MB PDF is 7 MB of base64, so only the body limit bounds them.
 */
const BODY_BOUNDED_STRINGS = new Set(['data']);

/**
 * FHIR strings "SHALL NOT contain Unicode character points below 32, except for u0009 (horizontal
 * tab), u0010 (carriage return) and u0013 (line feed)" (http://hl7.org/fhir/R4/datatypes.html#string).
 * PostgreSQL refuses U+0000 in text and jsonb, so letting one through would fail late, as a 500.
 */
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

/** Property names that mean something to JavaScript objects and are no FHIR element. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

interface Frame {
  value: unknown;
  parent: Frame | undefined;
  /** The property name or array index under the parent. */
  key: string | number | undefined;
  depth: number;
}

/**
 * Throws FhirError TOO_LARGE (413, `too-costly`) at the first element beyond a limit, or INVALID
 * (400) at a string with a forbidden control character or a prototype property name, with the
 * element's path as the expression. Iterative, so no input can overflow the stack.
 * Returns the number of object members it walked (http/body.ts compares it with the text's, to
 * find duplicate names without a second parse).
 */
export function checkInputLimits(body: unknown, limits: InputLimits): number {
  let members = 0;
  const stack: Frame[] = [{ value: body, parent: undefined, key: undefined, depth: 0 }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value, depth } = frame;
    if (typeof value === 'string') checkString(value, frame, limits);
    else if (Array.isArray(value)) {
      if (value.length > limits.maxArrayItems) throw tooCostly(`has ${value.length} items; at most ${limits.maxArrayItems} are accepted`, frame);
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], parent: frame, key: i, depth });
    } else if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value);
      members += keys.length;
      for (let i = keys.length - 1; i >= 0; i--) {
        const child: Frame = { value: (value as Record<string, unknown>)[keys[i]], parent: frame, key: keys[i], depth: depth + 1 };
        checkName(keys[i], child);
        if (child.depth > limits.maxDepth) throw tooCostly(`is nested ${child.depth} levels deep; at most ${limits.maxDepth} are accepted`, child);
        stack.push(child);
      }
    }
  }
  return members;
}

/** The refusal for nesting beyond `limits.maxDepth`, for parsers that find it first (XML). */
export function nestingTooDeep(limits: InputLimits, path?: string): FhirError {
  const where = path ? `Element ${path}` : 'The body';
  return new FhirError(FhirErrorCode.TOO_LARGE, { message: `${where} is nested more than ${limits.maxDepth} levels deep`, expression: path, code: 'too-costly' });
}

function checkString(value: string, frame: Frame, limits: InputLimits): void {
  if (value.length > limits.maxStringLength && !BODY_BOUNDED_STRINGS.has(String(nameOf(frame)))) {
    throw tooCostly(`is a string of ${value.length} characters; at most ${limits.maxStringLength} are accepted`, frame);
  }
  const bad = FORBIDDEN_CONTROL.exec(value);
  if (bad) throw badRequest(`${describe(frame)} contains the control character U+${codePoint(bad[0])}, which FHIR strings do not allow`, pathOf(frame));
}

function checkName(name: string, frame: Frame): void {
  if (PROTOTYPE_KEYS.has(name)) throw badRequest(`'${name}' is not a FHIR element name`, pathOf(frame));
  const bad = FORBIDDEN_CONTROL.exec(name);
  if (bad) throw badRequest(`An element name contains the control character U+${codePoint(bad[0])}`, pathOf(frame.parent!));
}

/** The element a value belongs to: its property name, or for an array item (`given[3]`) the array's (`given`). */
function nameOf(frame: Frame): string | number | undefined {
  let f: Frame | undefined = frame;
  while (f && typeof f.key === 'number') f = f.parent;
  return f?.key;
}

const codePoint = (ch: string): string => ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');

function tooCostly(what: string, frame: Frame): FhirError {
  return new FhirError(FhirErrorCode.TOO_LARGE, { message: `${describe(frame)} ${what}`, expression: pathOf(frame), code: 'too-costly' });
}

function describe(frame: Frame): string {
  const path = pathOf(frame);
  return path ? `Element ${path}` : 'The body';
}

/** FHIRPath-style location: the root resource's type, then names and [index]es. */
function pathOf(frame: Frame): string {
  const parts: string[] = [];
  let f: Frame | undefined = frame;
  for (; f?.parent !== undefined; f = f.parent) parts.push(typeof f.key === 'number' ? `[${f.key}]` : `.${f.key}`);
  const rootType = (f?.value as { resourceType?: unknown } | null | undefined)?.resourceType;
  const path = parts.reverse().join('');
  if (typeof rootType === 'string') return `${rootType}${path}`;
  return path.startsWith('.') ? path.slice(1) : path;
}

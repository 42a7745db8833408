import { FhirError, FhirErrorCode, badRequest } from '../errors.js';

/**
 * Labels of UTF-8 (WHATWG Encoding Standard §4.2 lists more, none of them in use by FHIR clients).
 * FHIR JSON and XML are UTF-8 (http://hl7.org/fhir/R4/http.html#mime-type: "FHIR uses UTF-8 for
 * all request and response bodies"), and so is JSON exchanged between systems (RFC 8259 §8.1).
 */
const UTF8_LABELS = new Set(['utf-8', 'utf8']);

/** The `charset` parameter of a Content-Type (RFC 9110 §8.3.2: the name and a token value are case-insensitive, the value may be quoted); undefined when absent. */
export function charsetOf(contentType: string | undefined): string | undefined {
  for (const parameter of (contentType ?? '').split(';').slice(1)) {
    const [name, ...rest] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    return rest.join('=').trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return undefined;
}

/**
 * The body as text. A charset other than UTF-8 is 415 (RFC 9110 §15.5.16: the content is in a
 * format the server does not support), rather than read as if it were UTF-8; no charset means
 * UTF-8. Bytes that are not UTF-8 are 400: decoding them leniently would store U+FFFD in place of
 * what the client sent, a silent change of clinical text.
 */
export function bodyText(bytes: ArrayBuffer | Uint8Array, contentType: string | undefined): string {
  const charset = charsetOf(contentType);
  if (charset !== undefined && !UTF8_LABELS.has(charset)) {
    throw new FhirError(FhirErrorCode.UNSUPPORTED_MEDIA_TYPE, `The body is declared as charset=${charset}; Stepwise reads request bodies in UTF-8 only (send charset=utf-8, or no charset)`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest(`The body is not valid UTF-8 (at byte ${firstInvalidByte(bytes)}); FHIR request bodies are UTF-8 encoded`);
  }
}

/**
 * The offset of the first byte of the first sequence that is not UTF-8 (on the error path only):
 * the longest prefix that could begin valid UTF-8 is found by halving, then moved back to the
 * start of the unfinished character it ends in, if any (at most three bytes).
 */
function firstInvalidByte(bytes: ArrayBuffer | Uint8Array): number {
  const all = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  // a fresh decoder each time: `stream` would keep an unfinished sequence for the next call
  const decodes = (n: number, stream: boolean): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(all.subarray(0, n), { stream });
      return true;
    } catch {
      return false;
    }
  };
  let good = 0;
  let bad = all.length;
  while (bad - good > 1) {
    const mid = (good + bad) >>> 1;
    if (decodes(mid, true)) good = mid;
    else bad = mid;
  }
  let start = good;
  while (start > 0 && good - start < 3 && !decodes(start, false)) start--;
  return start;
}

/** One fuzzed HTTP request to the FHIR API: what a counterexample prints. */
export interface FuzzRequest {
  /** Which generator made it: json, xml, search or message. */
  kind: 'json' | 'xml' | 'search' | 'message';
  method: string;
  /** Everything after `/fhir/`, sent as it is (broken percent-encoding included). */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** All of the request a client controls, as text: a marker in it may be echoed back without a leak. */
export function requestText(r: FuzzRequest): string {
  let path = r.path;
  try {
    path += ` ${decodeURIComponent(r.path)}`;
  } catch {
    // broken percent-encoding: the raw path is all there is
  }
  return `${r.method} ${path} ${JSON.stringify(r.headers)} ${r.body ?? ''}`;
}

/** The request in one line, bodies cut short, for reports. */
export function describeRequest(r: FuzzRequest, max = 600): string {
  const body = r.body === undefined ? '' : ` body(${r.body.length}): ${r.body.length > max ? `${r.body.slice(0, max)}…` : r.body}`;
  const headers = Object.keys(r.headers).length ? ` headers: ${JSON.stringify(r.headers)}` : '';
  return `[${r.kind}] ${r.method} /fhir/${r.path}${headers}${body}`;
}
